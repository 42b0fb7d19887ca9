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


class WarmupEMA(AveragedModel):
    """torch's AveragedModel over parameters and buffers (BatchNorm statistics too), same state_dict, with a
    leaner update: the same arithmetic as ``AveragedModel.update_parameters`` with ``warmup_ema``, but the
    count of updates is mirrored on the host, so an update never waits for the device (torch's compares and
    reads its ``n_averaged`` buffer three times per update: three host-device syncs on a GPU)."""

    def __init__(self, generator: nn.Module, decay: float) -> None:
        super().__init__(generator, multi_avg_fn=warmup_ema(decay), use_buffers=True)
        self.decay = decay
        self._count: int | None = None  # n_averaged on the host; read from the buffer after init or a load

    @torch.no_grad()
    def update_parameters(self, model: nn.Module) -> None:
        averaged = [*self.module.parameters(), *self.module.buffers()]
        current = [*model.parameters(), *model.buffers()]
        if len(averaged) != len(current) or any(a.device != c.device for a, c in zip(averaged, current)):
            self._count = None
            super().update_parameters(model)  # torch's general path (models on two devices, say)
            return
        if self._count is None:
            self._count = int(self.n_averaged)
        if self._count == 0:
            torch._foreach_copy_(averaged, current)
        else:
            keep = min(self.decay, (1.0 + self._count) / (10.0 + self._count))
            floats = [i for i, a in enumerate(averaged) if a.is_floating_point()]
            counters = [i for i, a in enumerate(averaged) if not a.is_floating_point()]
            if floats:
                torch._foreach_lerp_([averaged[i] for i in floats], [current[i] for i in floats], 1.0 - keep)
            if counters:  # BatchNorm's num_batches_tracked: copied, not averaged
                torch._foreach_copy_([averaged[i] for i in counters], [current[i] for i in counters])
        self.n_averaged += 1
        self._count += 1

    def _load_from_state_dict(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super()._load_from_state_dict(*args, **kwargs)
        self._count = None


def ema_model(generator: nn.Module, decay: float) -> AveragedModel:
    """An EMA of ``generator`` with the warm-up decay (a :class:`WarmupEMA`)."""
    return WarmupEMA(generator, decay)
