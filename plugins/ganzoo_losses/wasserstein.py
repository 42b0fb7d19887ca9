"""Wasserstein GAN: the critic estimates the earth-mover distance through its Kantorovich dual.

The dual form only holds for a (roughly) 1-Lipschitz critic. The constraint is not part of the objective: a
recipe adds it as a regulariser, ``clip`` (WGAN) or ``gradient-penalty`` (WGAN-GP), so that any objective can
take any constraint and the schedule (k critic steps, optimisers) stays loss-agnostic.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import torch

from ganzoo.plugin import GANLoss
from ganzoo_losses.options import WassersteinOptions


class WassersteinLoss(GANLoss):
    """Critic: E[f(G(z))] - E[f(x)]; generator: -E[f(G(z))]. Scores are raw, unbounded critic values."""

    family: ClassVar[Literal["logistic", "critic"]] = "critic"

    def __init__(self, options: WassersteinOptions | None = None) -> None:
        self.options = options if options is not None else WassersteinOptions()

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        return fake_logits.mean() - real_logits.mean()

    def g_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        return -fake_logits.mean()
