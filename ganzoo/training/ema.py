"""An exponential moving average of G's weights, with a warm-up.

A fixed decay of 0.999 keeps the first weights in the average for thousands of steps (0.999^200 = 0.82),
so early samples of the EMA generator look like its random initialisation. The decay ramps up as
min(decay, (1 + n) / (10 + n)) over the n updates so far, the schedule TensorFlow's EMA uses.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel


def warmup_ema(decay: float) -> Callable[[list[torch.Tensor], list[torch.Tensor], torch.Tensor | int], None]:
    def update(averaged: list[torch.Tensor], current: list[torch.Tensor], num_averaged: torch.Tensor | int) -> None:
        n = float(num_averaged)
        keep = min(decay, (1.0 + n) / (10.0 + n))
        if not averaged[0].is_floating_point():  # counters (BatchNorm's num_batches_tracked): no average
            torch._foreach_copy_(averaged, current)
            return
        torch._foreach_lerp_(averaged, current, 1.0 - keep)

    return update


def ema_model(generator: nn.Module, decay: float) -> AveragedModel:
    """torch's AveragedModel over parameters and buffers (BatchNorm statistics too)."""
    return AveragedModel(generator, multi_avg_fn=warmup_ema(decay), use_buffers=True)
