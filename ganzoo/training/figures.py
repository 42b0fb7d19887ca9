"""The running figures of a training run: device-side sums of the losses and D's outputs, and the first step
whose loss was not finite.

Losses are read back from the device only when logged. What each step records is kept as tensors and folded
into the sums every FOLD_EVERY steps with a few batched ops (a dozen small ops per step cost several percent
of a small model's step), and a device-side flag remembers the first non-finite step, so the check costs no
host-device synchronisation until a row is logged or a checkpoint written.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from ganzoo.errors import TrainingError

D_FIELDS = ("d_loss", "d_real", "d_fake", "penalty")
FOLD_EVERY = 64  # steps between folds of the recorded figures into the running sums


class RunningFigures:
    """Means since the last logged row of D's loss, D(x), D(G(z)), the penalty and G's loss.

    ``logistic`` says whether D's outputs are read as probabilities (sigmoid of the logit) or raw scores;
    ``reduce`` averages a tensor across processes (identity in one process); ``penalty`` says whether the run
    has penalties (a row then always carries one, though lazy penalties are not applied at every step).
    """

    def __init__(self, device: torch.device, *, logistic: bool, d_steps: int, grad_accum: int, batch_size: int,
                 world: int, reduce: Callable[[torch.Tensor], torch.Tensor], penalty: bool = False) -> None:
        self.device, self.logistic, self.reduce = device, logistic, reduce
        self.d_steps, self.grad_accum, self.batch_size, self.world = d_steps, grad_accum, batch_size, world
        self.first_bad = torch.full((), -1, dtype=torch.long, device=device)
        self.has_penalty = penalty  # whether rows carry a "penalty" figure (lazy penalties count 0 when not due)
        self._pending_steps: list[tuple[int, torch.Tensor, torch.Tensor]] = []
        self.reset(0)

    @classmethod
    def for_run(cls, train: Any, accelerator: Any, *, logistic: bool, penalty: bool) -> RunningFigures:
        """The figures of a run with ``train``'s options on ``accelerator``'s processes (averaged across them)."""
        world = accelerator.num_processes
        reduce = (lambda t: accelerator.reduce(t, reduction="mean")) if world > 1 else (lambda t: t)
        return cls(accelerator.device, logistic=logistic, d_steps=train.d_steps, grad_accum=train.grad_accum,
                   batch_size=train.batch_size, world=world, reduce=reduce, penalty=penalty)

    def reset(self, step: int) -> None:
        """Start a new interval at ``step`` (the non-finite check outlives the sums)."""
        if self._pending_steps:
            self.fold()
        self._d_sums = torch.zeros(4, device=self.device)
        self._g_sum = torch.zeros((), device=self.device)
        self._pending_d: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]] = []
        self._pending_g: list[torch.Tensor] = []
        self._interval = (step, time.perf_counter())

    def record_d(self, loss: torch.Tensor, real: torch.Tensor, fake: torch.Tensor, penalty: torch.Tensor | None) -> None:
        """One micro-batch of a critic step: its loss, D's outputs on reals and fakes, its penalty (or None)."""
        self.has_penalty = self.has_penalty or penalty is not None
        self._last_d = loss.detach().float()
        self._pending_d.append((self._last_d, real.detach(), fake.detach(),
                                None if penalty is None else penalty.detach().float()))

    def record_g(self, loss: torch.Tensor) -> None:
        self._last_g = loss.detach().float()
        self._pending_g.append(self._last_g)

    def end_step(self, step: int) -> None:
        """Note the step's last losses for the non-finite check; fold every FOLD_EVERY steps."""
        self._pending_steps.append((step, self._last_d, self._last_g))
        if len(self._pending_steps) >= FOLD_EVERY:
            self.fold()

    def fold(self) -> None:
        """Add what was recorded since the last fold to the sums, and note the first non-finite step."""
        accum = self.grad_accum
        if self._pending_d:
            losses, reals, fakes, penalties = zip(*self._pending_d)
            zero = torch.zeros((), device=self.device)
            values = torch.stack([
                torch.stack(losses), _means(reals, self.logistic), _means(fakes, self.logistic),
                torch.stack([zero if p is None else p for p in penalties]),
            ])
            self._d_sums += values.sum(dim=1) / accum
            self._pending_d.clear()
        if self._pending_g:
            self._g_sum += torch.stack(self._pending_g).sum() / accum
            self._pending_g.clear()
        if self._pending_steps:
            steps, d_last, g_last = zip(*self._pending_steps)
            bad = ~torch.isfinite(torch.stack(d_last) + torch.stack(g_last))
            if steps[-1] - steps[0] == len(steps) - 1:  # always, but for a resume between the records
                numbers = torch.arange(steps[0], steps[-1] + 1, device=self.device)
            else:  # pragma: no cover
                numbers = torch.tensor(steps, device=self.device)
            first = torch.where(bad, numbers, torch.iinfo(torch.long).max).min()
            self.first_bad = torch.where((self.first_bad < 0) & bad.any(), first, self.first_bad)
            self._pending_steps.clear()

    def first_non_finite(self) -> int | None:
        """The first step whose loss was not finite, or None (waits for the device)."""
        self.fold()
        first = int(self.first_bad.item())
        return first if first >= 0 else None

    def check_finite(self, last_checkpoint: Path | None) -> None:
        """A :class:`TrainingError` naming the first non-finite step (and the checkpoint still good), if any."""
        first = self.first_non_finite()
        if first is not None:
            kept = f"; the last good checkpoint {last_checkpoint} is intact" if last_checkpoint else ""
            raise TrainingError(f"non-finite loss at step {first}: training stopped{kept}. "
                                "Try a lower learning rate, a gradient penalty, or train.mixed_precision = 'no'")

    def row(self, step: int) -> dict[str, Any]:
        """Means since the last reset, averaged across processes: the one place the host waits for the device."""
        self.fold()
        steps = max(1, step - self._interval[0])
        means = torch.cat([self._d_sums / (steps * self.d_steps), (self._g_sum / steps)[None]])
        values = self.reduce(means).tolist()
        elapsed = time.perf_counter() - self._interval[1]
        images = steps * self.batch_size * self.d_steps * self.grad_accum * self.world
        row = {"step": step, **dict(zip(D_FIELDS, values[:4])), "g_loss": values[4]}
        if not self.has_penalty:
            row.pop("penalty")
        row["d_output"] = "probability" if self.logistic else "raw"
        row["images_per_s"] = images / max(elapsed, 1e-9)  # real images through D, all processes together
        row["processes"] = self.world
        row["global_batch"] = self.batch_size * self.grad_accum * self.world  # per optimiser step
        return row


def _means(logits: tuple[torch.Tensor, ...], logistic: bool) -> torch.Tensor:
    """Each batch's mean D output (probability for a logistic loss, raw score otherwise), batched when the
    batches are all of one size."""
    if len({t.shape for t in logits}) == 1:
        stacked = torch.stack(logits).float().flatten(1)
        return (torch.sigmoid(stacked) if logistic else stacked).mean(dim=1)
    return torch.stack([(torch.sigmoid(t.float()) if logistic else t.float()).mean() for t in logits])
