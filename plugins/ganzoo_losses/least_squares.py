"""Least-squares GAN (Mao et al.): squared distances to target scores instead of cross-entropy.

The quadratic keeps penalising fakes that are on the right side of the boundary but far from the data,
which gives G gradients where a saturated sigmoid would not.

``family`` is ``"critic"``: D's raw scores are reported as they are, with no sigmoid. With the default
0-1 coding the optimal D is (b p_data + a p_g) / (p_data + p_g) = p_data / (p_data + p_g), so the raw
scores already live on the probability scale and drift toward 1/2 just as D(x) does for the logistic
losses; a sigmoid on top would only distort them.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import torch

from ganzoo.plugin import GANLoss
from ganzoo_losses.options import LeastSquaresOptions


class LeastSquaresLoss(GANLoss):
    """D: 0.5 mean((real - b)^2) + 0.5 mean((fake - a)^2); G: 0.5 mean((fake - c)^2)."""

    family: ClassVar[Literal["logistic", "critic"]] = "critic"

    def __init__(self, options: LeastSquaresOptions | None = None) -> None:
        self.options = options if options is not None else LeastSquaresOptions()

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        real = (real_logits - self.options.real_target).square().mean()
        fake = (fake_logits - self.options.fake_target).square().mean()
        return 0.5 * (real + fake)

    def g_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        return 0.5 * (fake_logits - self.options.generator_target).square().mean()
