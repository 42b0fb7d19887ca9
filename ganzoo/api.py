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

from ganzoo.components import GANLoss
from ganzoo.errors import GanzooError
from ganzoo.options import options_to_dict
from ganzoo.recipe import Recipe, apply_overrides, load_recipe, recipe_from_dict
from ganzoo.registry import registries
from ganzoo.run_folder import RunFolder


def _build(kind: str, name: str, options: Mapping[str, Any], **context: Any) -> Any:
    component = registries().component(kind, name)
    parsed = component.parse(options, source="python", path=kind)
    return component.load_factory()(parsed, **context)


def build_generator(name: str, *, shape: Iterable[int], num_classes: int = 0, **options: Any) -> Any:
    """A registered generator for samples of ``shape``; ``num_classes > 0`` makes it conditional."""
    return _build("generator", name, options, shape=tuple(shape), num_classes=num_classes)


def build_discriminator(name: str, *, shape: Iterable[int], num_classes: int = 0, **options: Any) -> Any:
    """A registered discriminator (or critic) for samples of ``shape``."""
    return _build("discriminator", name, options, shape=tuple(shape), num_classes=num_classes)


def build_loss(name: str, **options: Any) -> GANLoss:
    """A registered loss, e.g. ``build_loss("wasserstein", lipschitz="gradient-penalty")``."""
    return _build("loss", name, options)


def build_dataset(name: str, *, split: str = "train", **options: Any) -> Any:
    """A registered dataset; its ``info`` gives shape and classes."""
    return _build("dataset", name, options, split=split)


def default_run_dir(recipe: Recipe, root: Path = Path("runs")) -> Path:
    """``runs/<name>-<YYYYmmdd-HHMMSS>``: a fresh folder per run, sorted by time."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = root / f"{recipe.name}-{stamp}"
    suffix = 1
    while path.exists():
        suffix += 1
        path = root / f"{recipe.name}-{stamp}-{suffix}"
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
            recipe=recipe.to_dict(),
        )
    loss_component = found.component("loss", recipe.loss.name)
    loss = loss_component.load_factory()(recipe.loss.options)
    data_component = found.component("dataset", recipe.data.name)
    data = data_component.load_factory()(recipe.data.options, split="train")
    return Trainer(
        modules["generator"], modules["discriminator"], loss, data,
        train=recipe.train, optim=recipe.optim, seed=recipe.seed, num_classes=classes,
        run_dir=run_dir, quiet=quiet, cards=cards, callbacks=eval_callbacks(recipe.eval, seed=recipe.seed),
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
    if resume is None and folder.holds_run():
        # a second run there would append to the first one's metrics and resume from its checkpoints
        raise GanzooError(f"{folder.path} already holds a run: continue it with --resume {folder.path} "
                          "(resume= in Python), or choose another --out")
    trainer = build_trainer(parsed, folder, quiet=quiet)
    if trainer.world > 1:  # several processes (torchrun, accelerate launch): one run folder, the main one's,
        # and only once every process has made the check above is anything written into it
        from ganzoo.training.distributed import agree_on_path

        trainer.accelerator.wait_for_everyone()
        folder = trainer.folder = RunFolder(agree_on_path(folder.path, trainer.accelerator))
    if resume is not None:  # first: a resume that fails must leave the run's recipe.toml as it was
        trainer.resume(folder.path)
        trainer.progress.message(f"resumed {folder.path} at step {trainer.step}")
    if trainer.accelerator.is_main_process:
        folder.path.mkdir(parents=True, exist_ok=True)
        write_text_atomic(folder.recipe, tomli_w.dumps(parsed.to_dict()))
    figures = trainer.fit()
    return RunResult(run_dir=folder.path, step=trainer.step, figures=figures)
