"""The relativistic average GAN loss (RaGAN; Jolicoeur-Martineau 2019), written on logits with softplus.

With C(x) the discriminator's logit, RaGAN's D estimates the probability that real data is more realistic
than the average fake, sigmoid(C(x_r) - mean C(x_f)), and the reverse for fakes. Both players minimise a
binary cross-entropy; the generator's is the discriminator's with the labels swapped::

    d_loss = mean softplus(-(C(x_r) - mean C(x_f))) + mean softplus(C(x_f) - mean C(x_r))
    g_loss = mean softplus(-(C(x_f) - mean C(x_r))) + mean softplus(C(x_r) - mean C(x_f))

(softplus(-t) = -log sigmoid(t) and softplus(t) = -log(1 - sigmoid(t)), finite at any logit.)

The generator's loss needs real logits too: the loss is registered with ``needs=Needs(real_logits=True)``, which
asks ganzoo's trainer to score a fresh real batch in G's step and pass it as ``batch.real_out``, read by
``g_objective``.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import torch
import torch.nn.functional as F

from ganzoo.plugin import GANLoss, GBatch, NoOptions


class RaGANLoss(GANLoss):
    # D's raw output is not a probability here (only the relative sigmoid(C(x_r) - mean C(x_f)) is), so the
    # trainer should report raw scores.
    family: ClassVar[Literal["logistic", "critic"]] = "critic"

    def __init__(self, options: NoOptions | None = None) -> None:
        self.options = options if options is not None else NoOptions()

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        return (
            F.softplus(-(real_logits - fake_logits.mean())).mean()
            + F.softplus(fake_logits - real_logits.mean()).mean()
        )

    def g_objective(self, batch: GBatch) -> torch.Tensor:
        assert batch.real_out is not None  # registered with needs=Needs(real_logits=True)
        return self.relativistic_g_loss(batch.fake_out.logits, batch.real_out.logits)

    def relativistic_g_loss(self, fake_logits: torch.Tensor, real_logits: torch.Tensor) -> torch.Tensor:
        """G's side: the discriminator's loss with the labels swapped."""
        real_logits = real_logits.detach()  # D is not trained in G's step
        return (
            F.softplus(-(fake_logits - real_logits.mean())).mean()
            + F.softplus(real_logits - fake_logits.mean()).mean()
        )
