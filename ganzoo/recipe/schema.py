"""The recipe's own sections (everything but the components, whose options their plugins define).

Defaults are sane for a small GAN; recipes should still say what they rely on (docs/design.md: DCGAN wants
Adam(2e-4, beta1 0.5), WGAN RMSprop(5e-5) with k = 5, WGAN-GP Adam(1e-4, betas 0/0.9)).
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

from ganzoo.components import DataInfo
from ganzoo.options import option, options_class, options_to_dict

#: Seeds are at most 2**32 - 1: the trainer derives per-process streams as ``seed * 100_003 + ...``, which
#: must stay within torch's 64-bit seeds.
SEED_MAX = 2**32 - 1
#: Sizes that keep one step within a machine's memory; a recipe beyond them is a typo, not a plan.
BATCH_MAX = 65_536


@options_class
class Header:
    name: str = option(
        "", help="the run's name (one path component: letters, digits, '.', '_', '+', '-'); defaults to the "
        "recipe file's name"
    )
    description: str = option("", help="one line on what the recipe shows")
    seed: int = option(0, min=0, max=SEED_MAX, help="seeds torch, the data order and the fixed sample noise")
    conditional: bool = option(False, help="condition G and D on the class label: learn p(x|c)")


@options_class
class OptimizerOptions:
    name: Literal["adam", "adamw", "rmsprop", "sgd"] = option("adam", help="torch.optim optimiser")
    lr: float = option(2e-4, min=0, exclusive_min=True, help="learning rate")
    betas: tuple[float, float] = option((0.5, 0.999), min=0, max=1, help="Adam/AdamW betas")
    weight_decay: float = option(0.0, min=0)
    momentum: float = option(0.0, min=0, max=1, help="SGD/RMSprop momentum")
    implementation: Literal["auto", "foreach", "fused", "for-loop"] = option(
        "auto", help="torch's optimiser kernels: fused is fastest on GPU"
    )


@options_class
class OptimSection:
    generator: OptimizerOptions = option(OptimizerOptions())
    discriminator: OptimizerOptions = option(OptimizerOptions())


@options_class
class TrainOptions:
    steps: int = option(1000, min=1, help="generator steps (each follows d_steps critic steps)")
    batch_size: int = option(64, min=1, max=BATCH_MAX, help="samples per step per process")
    d_steps: int = option(1, min=1, max=1000, help="k of Algorithm 1: critic steps per generator step")
    ema: float = option(0.0, min=0, max=1, help="decay of an EMA copy of G; 0 turns it off")
    lr_decay: Literal["none", "linear"] = option(
        "none", help="linear: both learning rates fall linearly to 0 at the last step (sharper modes late on)"
    )
    log_every: int = option(50, min=1, help="steps between metrics.jsonl lines")
    sample_every: int = option(0, min=0, help="steps between sample grids; 0 = only at the end")
    checkpoint_every: int = option(0, min=0, help="steps between checkpoints; 0 = only at the end")
    device: Literal["auto", "cpu", "cuda", "mps"] = option("auto", help="auto lets accelerate choose")
    mixed_precision: Literal["no", "bf16", "fp16"] = option("no", help="autocast dtype")
    grad_accum: int = option(1, min=1, max=1024, help="gradient accumulation steps")
    fast: Literal["auto", "off"] = option(
        "auto", help="auto adds the fast paths measured faster for this device and model (ganzoo/training/fast.py) "
        "on top of the switches below; off uses only those"
    )
    compile: bool = option(False, help="torch.compile G and D")
    channels_last: bool = option(False, help="channels-last memory format for image models")
    threads: int = option(0, min=0, max=1024, help="CPU threads for torch; 0 = torch's default")
    g_step_batchnorm: Literal["fresh-reals", "reused-reals", "fakes", "eval"] = option(
        "eval", help="what a BatchNorm D sees in G's step: a fresh real batch beside the fakes, the D step's "
        "last real batch beside them, the fakes alone, or the fakes with D in eval mode (ganzoo/training/gstep.py)"
    )
    g_step_fakes: Literal["fresh", "shared"] = option(
        "shared", help="G's step on fresh z and labels (Algorithm 1), or on the fakes of the last critic step "
        "(one G forward per step instead of two, as pytorch/examples' DCGAN does; ganzoo/training/gstep.py)"
    )
    grid_size: int = option(64, min=1, max=1024, help="samples in each grid (conditional: per class rows)")
    log_with: tuple[Literal["tensorboard", "wandb", "mlflow", "aim"], ...] = option(
        (), help="experiment trackers (through accelerate) fed the logged figures, grids and recipe; "
                 "they write into the run folder"
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
        """Classes the models are conditioned on: 0 for an unconditional recipe."""
        return self.data_info.num_classes if self.conditional else 0

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
