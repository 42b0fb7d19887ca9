"""The relativistic pairing loss (RpGAN; Jolicoeur-Martineau 2018, the loss of R3GAN, Huang et al. 2024).

D is not asked whether a sample is real, but whether a real sample looks *more* real than a fake one: each
real is paired with one fake, and the loss is a function of the difference of their logits only. With a
pairing, G's loss moves every fake relative to a real, so no single region of the data can satisfy D: the
landscape has no mode-dropping local minima (Sun et al. 2020), which is why R3GAN recovers all 1000 modes
of Stacked MNIST where the classic loss with the same penalties keeps 693.

D minimises softplus(-(D(x_real) - D(x_fake))), G minimises softplus(-(D(x_fake) - D(x_real))), averaged
over the pairs (sample i of the real batch with sample i of the fake batch). Scores are reported raw: only
their differences mean something.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import torch
import torch.nn.functional as F

from ganzoo.plugin import GANLoss, GBatch, NoOptions


def _pairs(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """first - second, pair by pair; unequal batches would silently broadcast or fail deep in autograd."""
    if first.shape != second.shape:
        raise ValueError(f"rpgan pairs reals with fakes sample by sample: got logits of shapes "
                         f"{list(first.shape)} and {list(second.shape)}")
    return first - second


class RelativisticPairingLoss(GANLoss):
    """RpGAN: each real's logit against its paired fake's, through softplus (the logistic link)."""

    # scores are reported raw (only differences of logits mean something); D's logits on reals reach G's step
    # because the loss is registered with needs=Needs(real_logits=True)
    family: ClassVar[Literal["logistic", "critic"]] = "critic"

    def __init__(self, options: NoOptions | None = None) -> None:
        self.options = options if options is not None else NoOptions()

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        return F.softplus(-_pairs(real_logits, fake_logits)).mean()

    def g_objective(self, batch: GBatch) -> torch.Tensor:
        if batch.real_out is None:
            raise ValueError("rpgan's generator loss compares each fake with a real: D's logits on reals are missing")
        return self.relativistic_g_loss(batch.fake_out.logits, batch.real_out.logits)

    def relativistic_g_loss(self, fake_logits: torch.Tensor, real_logits: torch.Tensor) -> torch.Tensor:
        """G's side, the pairs the other way round; D is not trained in G's step."""
        return F.softplus(-_pairs(fake_logits, real_logits.detach())).mean()
