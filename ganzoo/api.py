"""Composition from Python: the same registries and checks as the recipes, without a file.

    G = ganzoo.build_generator("dcgan", shape=(1, 32, 32), num_classes=10, latent_dim=64)
    D = ganzoo.build_discriminator("dcgan", shape=(1, 32, 32), num_classes=10)
    data = ganzoo.build_dataset("digits", image_size=32)
    ganzoo.Trainer(G, D, "non-saturating", data, steps=200).fit()
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from ganzoo.components import GANLoss, Regularization
from ganzoo.errors import GanzooError
from ganzoo.options import options_to_dict, parse_options
from ganzoo.recipe import Recipe, apply_overrides, load_recipe, recipe_from_dict
from ganzoo.recipe.schema import RegularizerSchedule
from ganzoo.registry import registries
from ganzoo.run_folder import RunFolder


def _build(kind: str, name: str, options: Mapping[str, Any], **context: Any) -> Any:
    component = registries().component(kind, name)
    parsed = component.parse(options, source="python", path=kind)
    built = component.load_factory()(parsed, **context)
    if kind in ("generator", "discriminator"):  # what a Trainer writes into the weights, so they load again
        from ganzoo.weights import ModelCard

        built.card = ModelCard(role=kind, component=name, plugin=component.plugin, options=options_to_dict(parsed),
                               shape=context["shape"], num_classes=context["num_classes"],
                               latent_dim=getattr(built, "latent_dim", None))
    return built


def build_generator(name: str, *, shape: Iterable[int], num_classes: int = 0, **options: Any) -> Any:
    """A registered generator for samples of ``shape``; ``num_classes > 0`` makes it conditional."""
    return _build("generator", name, options, shape=tuple(shape), num_classes=num_classes)


def build_discriminator(name: str, *, shape: Iterable[int], num_classes: int = 0, **options: Any) -> Any:
    """A registered discriminator (or critic) for samples of ``shape``."""
    return _build("discriminator", name, options, shape=tuple(shape), num_classes=num_classes)


def build_loss(name: str, **options: Any) -> GANLoss:
    """A registered loss, e.g. ``build_loss("hinge")``."""
    return _build("loss", name, options)


def build_regularizer(name: str, *, weight: float = 1.0, every: int = 1, **options: Any) -> Regularization:
    """A registered regulariser with its schedule, e.g. ``build_regularizer("r1", weight=10.0, every=16)``,
    for ``Trainer(..., regularizers=[...])``."""
    schedule = parse_options(RegularizerSchedule, {"weight": weight, "every": every}, source="python",
                             path="regularizer")
    return Regularization(_build("regularizer", name, options), weight=schedule.weight, every=schedule.every,
                          name=name)


def build_augment(name: str, *, shape: Iterable[int], **options: Any) -> Any:
    """A registered D-input augmentation for samples of ``shape``, for ``Trainer(..., augment=...)``."""
    return _build("augment", name, options, shape=tuple(shape))


def build_dataset(name: str, *, split: str = "train", **options: Any) -> Any:
    """A registered dataset; its ``info`` gives shape and classes."""
    return _build("dataset", name, options, split=split)


def sample(
    weights: str | Path, n: int = 64, *, label: int | None = None, seed: int = 0, model_units: bool = False
) -> tuple[Any, Any]:
    """``n`` seeded samples ``(x, c)`` from a weights file or run folder, in the data's own units (a ring8
    run's points on the unit circle, images as intensities in [0, 1]) unless ``model_units`` (the
    generator's [-1, 1], the dataset's scale applied). ``label`` picks one class of a conditional model;
    without it the classes come in turn. The transform is the one the weights file records."""
    import torch

    from ganzoo.evaluation.sampling import generate
    from ganzoo.weights import load_generator

    generator = load_generator(weights)
    card = generator.card
    if label is not None and not 0 <= label < card.num_classes:
        raise GanzooError(f"label {label}: allowed: 0..{card.num_classes - 1}" if card.num_classes
                          else f"label {label}: the generator is unconditional")
    labels = None if label is None else torch.full((n,), label, dtype=torch.long)
    x, c = generate(generator, n, seed=seed, labels=labels, latent_dim=card.latent_dim,
                    num_classes=card.num_classes)
    if not torch.isfinite(x).all():
        raise GanzooError(f"{weights}: the generator gives non-finite samples (nan or inf): the run diverged")
    return (x if model_units else card.to_data_units(x)), c


def default_run_dir(recipe: Recipe, root: Path = Path("runs")) -> Path:
    """``runs/<name>-<YYYYmmdd-HHMMSS>``: a fresh folder per run, sorted by time."""
    from ganzoo.recipe.load import RUN_NAME, run_name_from_stem

    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    # validated recipes name one path component; a Recipe built by hand is made safe the same way
    name = recipe.name if RUN_NAME.fullmatch(recipe.name) else run_name_from_stem(recipe.name)
    path = root / f"{name}-{stamp}"
    suffix = 1
    while path.exists():
        suffix += 1
        path = root / f"{name}-{stamp}-{suffix}"
    return path


def build_trainer(recipe: Recipe, run_dir: Path | RunFolder | None, *, quiet: bool = False) -> Any:
    """Everything a recipe names, built and handed to a :class:`~ganzoo.training.trainer.Trainer`."""
    import torch

    from ganzoo.evaluation.callback import eval_callbacks
    from ganzoo.training.trainer import Trainer
    from ganzoo.weights import ModelCard

    torch.manual_seed(recipe.seed)  # model initialisation is part of the seeded run
    found = registries()
    shape, classes = recipe.data_info.shape, recipe.num_classes
    cards = {}
    modules = {}
    for role in ("generator", "discriminator"):
        choice = getattr(recipe, role)
        component = found.component(role, choice.name)
        modules[role] = component.load_factory()(choice.options, shape=shape, num_classes=classes)
        cards[role] = ModelCard(
            role=role, component=choice.name, plugin=component.plugin, options=options_to_dict(choice.options),
            shape=shape, num_classes=classes, latent_dim=getattr(modules[role], "latent_dim", None),
            recipe=recipe.to_dict(), units=recipe.data_info.units,
        )
    loss_component = found.component("loss", recipe.loss.name)
    loss = loss_component.load_factory()(recipe.loss.options)
    regularizers = [
        Regularization(found.component("regularizer", r.name).load_factory()(r.options), weight=r.schedule.weight,
                       every=r.schedule.every, name=r.name)
        for r in recipe.regularizers
    ]
    augment = None
    if recipe.augment is not None:
        augment = found.component("augment", recipe.augment.name).load_factory()(recipe.augment.options, shape=shape)
    data_component = found.component("dataset", recipe.data.name)
    data = data_component.load_factory()(recipe.data.options, split="train")
    return Trainer(
        modules["generator"], modules["discriminator"], loss, data,
        train=recipe.train, optim=recipe.optim, seed=recipe.seed, num_classes=classes,
        run_dir=run_dir, quiet=quiet, cards=cards, callbacks=eval_callbacks(recipe.eval, seed=recipe.seed),
        regularizers=regularizers, augment=augment,
    )


@attrs.frozen
class RunResult:
    run_dir: Path | None
    step: int
    figures: dict[str, Any]


def run_recipe(
    recipe: str | Path | Recipe | Mapping[str, Any],
    *,
    overrides: Iterable[str] = (),
    out: str | Path | None = None,
    resume: str | Path | None = None,
    quiet: bool = False,
) -> RunResult:
    """Train what a recipe (file, shipped name, dict or :class:`Recipe`) describes; see ``ganzoo run``."""
    import tomli_w

    from ganzoo.atomic import write_text_atomic

    overrides = list(overrides)
    if isinstance(recipe, Recipe):
        if overrides:  # silently ignoring them would train something else than asked
            raise TypeError("overrides apply to a recipe file or dict; a Recipe is already validated")
        parsed = recipe
    elif isinstance(recipe, Mapping):
        parsed = recipe_from_dict(apply_overrides(dict(recipe), overrides, "<recipe>"))
    else:
        parsed = load_recipe(recipe, overrides)
    folder = RunFolder(resume if resume is not None else out if out is not None else default_run_dir(parsed))
    from ganzoo import run_lock
    from ganzoo.training.distributed import launched_rank

    # checked and locked before anything is built: a second run with the same folder gets one line naming
    # the first one's pid, and a folder that cannot be written fails before any work
    with run_lock.using(folder, resume=resume is not None, main_process=launched_rank() == 0):
        try:
            trainer = build_trainer(parsed, folder, quiet=quiet)
            if trainer.world > 1:  # several processes (torchrun, accelerate launch): one run folder, the main
                # one's, and only once every process has made the checks above is anything written into it
                from ganzoo.training.distributed import agree_on_path

                trainer.accelerator.wait_for_everyone()
                folder = trainer.folder = RunFolder(agree_on_path(folder.path, trainer.accelerator))
            if resume is not None:  # first: a resume that fails must leave the run's recipe.toml as it was
                trainer.resume(folder.path)
                trainer.progress.message(f"resumed {folder.path} at step {trainer.step}")
            if trainer.accelerator.is_main_process:
                folder.path.mkdir(parents=True, exist_ok=True)
                # the resolved recipe: train.fast's choice written in, so a resume (or a rerun) trains the same way
                resolved = attrs.evolve(parsed, train=trainer.config, optim=trainer.optim_config)
                write_text_atomic(folder.recipe, tomli_w.dumps(resolved.to_dict()))
            figures = trainer.fit()
        except OSError as err:  # disk full, a folder made read-only under us: one line, the folder resumable
            raise run_lock.write_failed(folder, err) from None
    return RunResult(run_dir=folder.path, step=trainer.step, figures=figures)


def resolve_loss(loss: str | GANLoss) -> GANLoss:
    """A loss object as given, or the registered loss of that name with its default options."""
    if isinstance(loss, GANLoss):
        return loss
    if isinstance(loss, str):
        component = registries().component("loss", loss)
        return component.load_factory()(component.parse({}))
    raise TypeError(f"loss must be a registered name or a GANLoss, not {type(loss).__name__}")
