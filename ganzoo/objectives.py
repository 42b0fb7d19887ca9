"""The non-saturating GAN objective on logits, as a base for losses that add terms to it.

More than one plugin's loss is this objective plus something (the built-in ``non-saturating`` loss is it
alone; ACGAN adds a class cross-entropy, InfoGAN a mutual-information bound), so it lives here, in the core,
rather than in one plugin that the others would import. Plugins reach it through :mod:`ganzoo.plugin`.

D's output is a logit ``l`` with D = sigmoid(l). Every log-probability is written with softplus, since
log sigmoid(l) = -softplus(-l) and log(1 - sigmoid(l)) = -softplus(l): these stay finite and keep their
gradients at any logit, where ``log(sigmoid(l))`` turns into log(0) = -inf for l below about -100 (float32).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as F

from ganzoo.contracts import GANLoss


def logistic_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-[log D(x) + log(1 - D(G(z)))]: binary cross-entropy of real -> 1, fake -> 0; log 4 when D = 1/2."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def non_saturating_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """-log D(G(z)): the original paper's practical fix, whose gradient stays near -1 when D rejects the fakes."""
    return F.softplus(-fake_logits).mean()


class NonSaturatingObjective(GANLoss):
    """D: binary cross-entropy; G: -log D(G(z)). Override ``d_objective`` / ``g_objective`` to add terms."""

    family: ClassVar[Literal["logistic", "critic"]] = "logistic"

    def __init__(self, options: Any = None) -> None:
        self.options = options

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        return logistic_d_loss(real_logits, fake_logits)

    def g_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        return non_saturating_g_loss(fake_logits)
