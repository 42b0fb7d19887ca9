"""ADA's controller (Karras et al. 2020, "Training Generative Adversarial Networks with Limited Data").

An overfitting D grows confident on the training images: the share of reals it scores positive,
r_t = E[sign(D(x_real))], rises towards 1. ADA measures r_t over ``interval`` critic steps and moves the
augmentation probability p by sign(r_t - target) * (images seen) / speed, clamped to [0, 1]: p climbs while D
overfits and falls when it does not, at most from 0 to 1 in ``speed`` real images.

Everything stays on the device (a sum of signs and p as tensors), so observing costs no host-device
synchronisation; p is read back only when the trainer logs it. p and the partial sums are part of the
checkpoint (``state_dict``), so a resumed run adapts exactly as an uninterrupted one. In a multi-process run
each process adapts p from its own reals.
"""

from __future__ import annotations

from typing import Any

import torch


class AdaptiveProbability:
    """p, adjusted every ``interval`` observed critic steps from the sign of D's logits on reals."""

    def __init__(self, *, target: float, interval: int, speed: int) -> None:
        self.target, self.interval, self.speed = float(target), int(interval), int(speed)
        self.p = torch.zeros((), dtype=torch.float64)
        self._signs = torch.zeros((), dtype=torch.float64)
        self._images, self._steps = 0, 0

    def on(self, device: torch.device) -> torch.Tensor:
        """p on ``device`` (moved there once, with the running sum)."""
        if self.p.device != device:
            self.p, self._signs = self.p.to(device), self._signs.to(device)
        return self.p

    def observe(self, real_logits: torch.Tensor) -> None:
        """One critic step's logits on reals; every ``interval`` steps, p moves."""
        self.on(real_logits.device)
        self._signs = self._signs + real_logits.detach().sign().sum(dtype=torch.float64)
        self._images += real_logits.numel()
        self._steps += 1
        if self._steps % self.interval == 0:
            rate = self._signs / self._images
            self.p = (self.p + torch.sign(rate - self.target) * (self._images / self.speed)).clamp(0.0, 1.0)
            self._signs = torch.zeros_like(self._signs)
            self._images = 0

    def state_dict(self) -> dict[str, Any]:
        return {"p": self.p, "signs": self._signs, "images": self._images, "steps": self._steps}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        device = self.p.device
        self.p = state["p"].to(device=device, dtype=torch.float64)
        self._signs = state["signs"].to(device=device, dtype=torch.float64)
        self._images, self._steps = int(state["images"]), int(state["steps"])
