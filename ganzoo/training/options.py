"""The trainer's options: a recipe's ``[train]`` and ``[optim]`` tables, or ``Trainer(..., steps=200)``.

They live beside the trainer, which reads them, rather than with the recipes, which parse them, so that
the trainer needs nothing of recipe files (``ganzoo.recipe.schema`` re-exports them). Torch-free: recipes
are validated before torch loads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from ganzoo.options import option, options_class, parse_options

#: Sizes that keep one step within a machine's memory; a recipe beyond them is a typo, not a plan.
BATCH_MAX = 65_536


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
    g_top_k: float = option(
        1.0, min=0, exclusive_min=True, max=1,
        help="top-k training (Sinha et al. 2020): G's loss over this fraction of the fakes, those D rates most "
             "real; k falls to it from the whole batch over the first fifth of the run (ganzoo/training/topk.py); "
             "1 = every fake",
    )
    group_by_class: bool = option(
        False, help="each batch in class order (reals, and the labels fakes are drawn for), so that a "
        "minibatch-std group shares a class and D sees a class drawn as near-copies; conditional runs only"
    )
    grid_size: int = option(64, min=1, max=1024, help="samples in each grid (conditional: per class rows)")
    log_with: tuple[Literal["tensorboard", "wandb", "mlflow", "aim"], ...] = option(
        (), help="experiment trackers (through accelerate) fed the logged figures, grids and recipe; "
                 "they write into the run folder"
    )


def train_options(train: TrainOptions | None, keywords: Mapping[str, Any]) -> TrainOptions:
    """A Trainer's ``[train]`` options, given whole or as keywords (checked as a recipe's table is)."""
    if train is None:
        return parse_options(TrainOptions, keywords, source="Trainer", path="train")
    if keywords:
        raise TypeError("give either train=TrainOptions(...) or keyword options, not both")
    return train
