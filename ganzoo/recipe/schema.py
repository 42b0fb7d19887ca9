"""The recipe's own sections (everything but the components, whose options their plugins define).

Defaults are sane for a small GAN; recipes should still say what they rely on (docs/design.md: DCGAN wants
Adam(2e-4, beta1 0.5), WGAN RMSprop(5e-5) with k = 5, WGAN-GP Adam(1e-4, betas 0/0.9)).
"""

from __future__ import annotations

from typing import Any

import attrs

from ganzoo.components import DataInfo
from ganzoo.options import option, options_class, options_to_dict
from ganzoo.training.options import BATCH_MAX, OptimizerOptions, OptimSection, TrainOptions

__all__ = ["BATCH_MAX", "SEED_MAX", "ComponentChoice", "EvalOptions", "Header", "OptimSection", "OptimizerOptions",
           "Recipe", "RegularizerChoice", "RegularizerSchedule", "TrainOptions"]

#: Seeds are at most 2**32 - 1: the trainer derives per-process streams as ``seed * 100_003 + ...``, which
#: must stay within torch's 64-bit seeds.
SEED_MAX = 2**32 - 1


@options_class
class Header:
    name: str = option(
        "", help="the run's name (one path component: letters, digits, '.', '_', '+', '-'); defaults to the "
        "recipe file's name"
    )
    description: str = option("", help="one line on what the recipe shows")
    seed: int = option(0, min=0, max=SEED_MAX, help="seeds torch, the data order and the fixed sample noise")
    conditional: bool = option(False, help="condition G and D on the class label: learn p(x|c)")
    clusters: int = option(
        0, min=0, max=10_000, help="self-conditioning: condition G and D on this many k-means clusters of the "
        "training data instead of labels (none are read); sampling draws the clusters with their training "
        "frequencies; 0 = off"
    )


@options_class
class EvalOptions:
    every: int = option(0, min=0, help="steps between evaluations during training; 0 = none")
    metrics: tuple[str, ...] = option((), help="metric names (see `ganzoo list metrics`)")
    samples: int = option(2500, min=1, max=1_000_000, help="generated samples per evaluation")
    keep_best: str = option(
        "", help='"metric/figure" (e.g. "classifier-fd/fd"): keep the generator of the best evaluation as '
        "generator-best.safetensors; the metric says whether lower or higher is better; empty = off"
    )


@attrs.frozen
class ComponentChoice:
    """A component named by a recipe section, with its validated options."""

    kind: str
    name: str
    options: Any

    def as_table(self) -> dict[str, Any]:
        return {"name": self.name, **options_to_dict(self.options)}


@options_class
class RegularizerSchedule:
    """How a recipe applies one regulariser: its weight, and every how many critic steps (lazily, scaled)."""

    weight: float = option(1.0, min=0, help="multiplies the penalty (gamma of R1/R2, lambda of WGAN-GP)")
    every: int = option(1, min=1, help="apply every N critic steps, with the weight scaled by N (StyleGAN2)")


@attrs.frozen
class RegularizerChoice:
    """One ``[[regularizer]]`` entry: the registered name, its schedule and its own validated options."""

    name: str
    schedule: RegularizerSchedule
    options: Any
    kind: str = "regularizer"

    def as_table(self) -> dict[str, Any]:
        return {"name": self.name, **options_to_dict(self.schedule), **options_to_dict(self.options)}


@attrs.frozen
class Recipe:
    """A validated recipe: every name resolved, every value checked, the data's shape known."""

    header: Header
    data: ComponentChoice
    generator: ComponentChoice
    discriminator: ComponentChoice
    loss: ComponentChoice
    train: TrainOptions
    optim: OptimSection
    eval: EvalOptions
    data_info: DataInfo
    source: str = ""
    regularizers: tuple[RegularizerChoice, ...] = ()
    augment: ComponentChoice | None = None

    @property
    def name(self) -> str:
        return self.header.name

    @property
    def seed(self) -> int:
        return self.header.seed

    @property
    def conditional(self) -> bool:
        return self.header.conditional

    @property
    def num_classes(self) -> int:
        """Classes the models are conditioned on: the data's, the clusters' (self-conditioning), or 0."""
        return self.data_info.num_classes if self.conditional else self.header.clusters

    def to_dict(self) -> dict[str, Any]:
        """The resolved recipe as a TOML-ready table: every default written out."""
        return {
            **options_to_dict(self.header),
            "data": self.data.as_table(),
            "generator": self.generator.as_table(),
            "discriminator": self.discriminator.as_table(),
            "loss": self.loss.as_table(),
            **({"regularizer": [r.as_table() for r in self.regularizers]} if self.regularizers else {}),
            **({"augment": self.augment.as_table()} if self.augment is not None else {}),
            "train": options_to_dict(self.train),
            "optim": options_to_dict(self.optim),
            "eval": options_to_dict(self.eval),
        }
