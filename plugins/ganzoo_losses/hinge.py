"""Hinge loss on raw critic scores.

The margin stops D from spending capacity on samples it already separates by more than 1, which is why
SAGAN and BigGAN (with spectral normalisation) prefer it; G simply raises the critic's score of its fakes.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import torch
import torch.nn.functional as F

from ganzoo.plugin import GANLoss, NoOptions


class HingeLoss(GANLoss):
    """D: mean(relu(1 - real)) + mean(relu(1 + fake)); G: -mean(fake). Scores are reported raw."""

    family: ClassVar[Literal["logistic", "critic"]] = "critic"

    def __init__(self, options: NoOptions | None = None) -> None:
        self.options = options if options is not None else NoOptions()

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()

    def g_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        return -fake_logits.mean()
