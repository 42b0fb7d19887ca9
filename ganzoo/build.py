"""Components from their registered names: the one place that turns names and options into objects.

The Python API (``ganzoo.build_generator(...)``, ``ganzoo.Trainer(G, D, "hinge", ...)``) and a recipe's run
(``ganzoo run``, ``ganzoo.run_recipe``) both build here, with the same registries and option checks; the
trainer below takes the built objects and knows nothing of names, recipes or plugins.

    G = ganzoo.build_generator("dcgan", shape=(1, 32, 32), num_classes=10, latent_dim=64)
    D = ganzoo.build_discriminator("dcgan", shape=(1, 32, 32), num_classes=10)
    data = ganzoo.build_dataset("digits", image_size=32)
    ganzoo.Trainer(G, D, ganzoo.build_loss("non-saturating"), data, steps=200).fit()
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from ganzoo.components import GANLoss, Regularization
from ganzoo.model_outputs import check_outputs
from ganzoo.options import options_to_dict, parse_options
from ganzoo.recipe.schema import Recipe, RegularizerSchedule
from ganzoo.registry import registries
from ganzoo.run_folder import RunFolder

if TYPE_CHECKING:  # pragma: no cover
    from ganzoo.training.trainer import Trainer


def make(kind: str, name: str, options: Any, **context: Any) -> Any:
    """The registered ``kind`` called ``name``, from options already parsed (a recipe's)."""
    return registries().component(kind, name).build(options, **context)


def _build(kind: str, name: str, options: Mapping[str, Any], **context: Any) -> Any:
    """The registered ``kind`` called ``name``, from keyword options checked as a recipe's would be."""
    component = registries().component(kind, name)
    parsed = component.parse(options, source="python", path=kind)
    built = make(kind, name, parsed, **context)
    if kind in ("generator", "discriminator"):  # what a Trainer writes into the weights, so they load again
        from ganzoo.weights import ModelCard

        built.card = ModelCard(role=kind, component=name, plugin=component.plugin, options=options_to_dict(parsed),
                               shape=context["shape"], num_classes=context["num_classes"],
                               latent_dim=built.latent_dim if kind == "generator" else None)
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


def resolve_loss(loss: str | GANLoss) -> GANLoss:
    """A loss object as given, or the registered loss of that name with its default options."""
    if isinstance(loss, GANLoss):
        return loss
    if isinstance(loss, str):
        return build_loss(loss)
    raise TypeError(f"loss must be a registered name or a GANLoss, not {type(loss).__name__}")


def build_trainer(recipe: Recipe, run_dir: Path | RunFolder | None, *, quiet: bool = False) -> Trainer:
    """Everything a recipe names, built (in a fixed order: the seeded initialisation depends on it) and handed
    to a :class:`~ganzoo.training.trainer.Trainer`."""
    import torch

    from ganzoo.clusters import cluster_data
    from ganzoo.evaluation.callback import eval_callbacks
    from ganzoo.training.trainer import Trainer
    from ganzoo.weights import ModelCard

    torch.manual_seed(recipe.seed)  # model initialisation is part of the seeded run
    shape, classes = recipe.data_info.shape, recipe.num_classes
    cards, modules = {}, {}
    for role in ("generator", "discriminator"):
        choice = getattr(recipe, role)
        modules[role] = make(role, choice.name, choice.options, shape=shape, num_classes=classes)
        cards[role] = ModelCard(
            role=role, component=choice.name, plugin=registries().component(role, choice.name).plugin,
            options=options_to_dict(choice.options), shape=shape, num_classes=classes,
            latent_dim=modules[role].latent_dim if role == "generator" else None, recipe=recipe.to_dict(),
            units=recipe.data_info.units,
        )
    loss = make("loss", recipe.loss.name, recipe.loss.options)
    regularizers = [Regularization(make("regularizer", r.name, r.options), weight=r.schedule.weight,
                                   every=r.schedule.every, name=r.name) for r in recipe.regularizers]
    declared = {role: (registries().component(role, getattr(recipe, role).name), getattr(recipe, role).options)
                for role in modules}
    check_outputs(modules["generator"], modules["discriminator"], loss, regularizers, num_classes=classes,
                  declared=declared)  # before the trainer writes anything into the run folder
    augment = None
    if recipe.augment is not None:
        augment = make("augment", recipe.augment.name, recipe.augment.options, shape=shape)
    data = make("dataset", recipe.data.name, recipe.data.options, split="train")
    if recipe.header.clusters:  # self-conditioning: the clusters are the classes, drawn by their frequencies
        data = cluster_data(data, recipe.header.clusters, source=f"{recipe.source}: clusters")
        cards = {role: attrs.evolve(card, label_prior=data.prior) for role, card in cards.items()}
    return Trainer(
        modules["generator"], modules["discriminator"], loss, data,
        train=recipe.train, optim=recipe.optim, seed=recipe.seed, num_classes=classes,
        run_dir=run_dir, quiet=quiet, cards=cards, callbacks=eval_callbacks(recipe.eval, seed=recipe.seed),
        regularizers=regularizers, augment=augment,
    )
