"""The original GAN objective on logits, in its two generator forms.

D's output is a logit ``l`` with D = sigmoid(l). Every log-probability is written with softplus, since
log sigmoid(l) = -softplus(-l) and log(1 - sigmoid(l)) = -softplus(l): these stay finite and keep their
gradients at any logit, where ``log(sigmoid(l))`` turns into log(0) = -inf for l below about -100 (float32).
"""

from __future__ import annotations

from typing import ClassVar, Literal

import torch
import torch.nn.functional as F

from ganzoo.plugin import GANLoss, NoOptions, logistic_d_loss, non_saturating_g_loss


class _LogisticLoss(GANLoss):
    """The discriminator side shared by both forms: binary cross-entropy of real -> 1, fake -> 0."""

    family: ClassVar[Literal["logistic", "critic"]] = "logistic"

    def __init__(self, options: NoOptions | None = None) -> None:
        self.options = options if options is not None else NoOptions()

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        """-[log D(x) + log(1 - D(G(z)))]; equals log 4 when D = 1/2 everywhere."""
        return logistic_d_loss(real_logits, fake_logits)


class MinimaxLoss(_LogisticLoss):
    """The game exactly as posed: G minimises log(1 - D(G(z))).

    Kept for faithfulness and for teaching: its gradient w.r.t. the logit is -sigmoid(l), which vanishes
    when D confidently rejects the fakes, i.e. early in training, so G learns slowly if at all.
    """

    def g_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        return -F.softplus(fake_logits).mean()


class NonSaturatingLoss(_LogisticLoss):
    """The paper's practical fix: G minimises -log D(G(z)), same fixed point, gradient -(1 - sigmoid(l))
    which stays near -1 exactly when D rejects the fakes."""

    def g_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        return non_saturating_g_loss(fake_logits)
