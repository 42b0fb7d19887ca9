"""Composition from Python: the same registries and checks as the recipes, without a file.

    G = ganzoo.build_generator("dcgan", shape=(1, 32, 32), num_classes=10, latent_dim=64)
    D = ganzoo.build_discriminator("dcgan", shape=(1, 32, 32), num_classes=10)
    data = ganzoo.build_dataset("digits", image_size=32)
    ganzoo.Trainer(G, D, "non-saturating", data, steps=200).fit()

Building from names is :mod:`ganzoo.build`'s (re-exported here); this module adds what a user calls:
a trainer that also takes a loss by name, training a whole recipe, and sampling a weights file.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from ganzoo import contracts
from ganzoo.build import (
    build_augment,
    build_dataset,
    build_discriminator,
    build_generator,
    build_loss,
    build_regularizer,
    build_trainer,
    resolve_loss,
)
from ganzoo.components import GANLoss
from ganzoo.errors import GanzooError
from ganzoo.model_outputs import check_outputs
from ganzoo.recipe import Recipe, apply_overrides, load_recipe, recipe_from_dict
from ganzoo.run_folder import RunFolder
from ganzoo.training.trainer import Trainer as _Trainer

__all__ = ["RunResult", "Trainer", "build_augment", "build_dataset", "build_discriminator", "build_generator",
           "build_loss", "build_regularizer", "build_trainer", "default_run_dir", "resolve_loss", "run_recipe",
           "sample"]


class Trainer(_Trainer):
    """:class:`ganzoo.training.trainer.Trainer`, the loss also given by its registered name
    (``ganzoo.Trainer(G, D, "hinge", data, steps=200)``): the trainer itself takes built objects only. G and D
    are held to the outputs they declared and the loss and regularisers read, as a recipe's are (one short
    forward, :mod:`ganzoo.model_outputs`)."""

    def __init__(self, generator: Any, discriminator: Any, loss: str | GANLoss, data: Any, **options: Any) -> None:
        loss = resolve_loss(loss)
        classes = options.get("num_classes")
        if "regularizers" in options:  # read twice: here and by the trainer
            options["regularizers"] = list(options["regularizers"])
        check_outputs(generator, discriminator, loss, options.get("regularizers", ()),
                      num_classes=int(classes if classes is not None else contracts.num_classes(generator)))
        super().__init__(generator, discriminator, loss, data, **options)


def sample(
    weights: str | Path, n: int = 64, *, label: int | None = None, seed: int = 0, model_units: bool = False
) -> tuple[Any, Any]:
    """``n`` seeded samples ``(x, c)`` from a weights file or run folder, in the data's own units (a ring8
    run's points on the unit circle, images as intensities in [0, 1]) unless ``model_units`` (the
    generator's [-1, 1], the dataset's scale applied). ``label`` picks one class of a conditional model
    (one cluster of a self-conditioned one); without it every class in equal blocks (the clusters by their
    training frequencies). The transform is the one the weights file records. The same seed
    and label give what ``ganzoo sample`` gives (one sampler: :mod:`ganzoo.sampling`)."""
    import torch

    from ganzoo.sampling import draw
    from ganzoo.weights import load_generator

    generator = load_generator(weights)
    card = generator.card
    if label is not None and not 0 <= label < card.num_classes:
        raise GanzooError(f"label {label}: allowed: 0..{card.num_classes - 1}" if card.num_classes
                          else f"label {label}: the generator is unconditional")
    x, c = draw(generator, n, seed=seed, label=label, latent_dim=card.latent_dim, num_classes=card.num_classes,
                prior=card.label_prior)
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
    from ganzoo.recipe.resume import check_resume

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
        if resume is not None:  # the same data and models as the run trained, or nothing is touched
            check_resume(folder.path, parsed)
        try:
            trainer = build_trainer(parsed, folder, quiet=quiet)
            if trainer.world > 1:  # several processes (torchrun, accelerate launch): one run folder, the main
                # one's, and only once every process has made the checks above is anything written into it
                from ganzoo.training.distributed import agree_on_path

                trainer.accelerator.wait_for_everyone()
                folder = trainer.outputs.folder = RunFolder(agree_on_path(folder.path, trainer.accelerator))
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
