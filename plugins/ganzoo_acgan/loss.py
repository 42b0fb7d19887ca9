"""The ACGAN objective: the non-saturating GAN loss plus the class cross-entropy of D's class head."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ganzoo.plugin import NonSaturatingObjective, DBatch, GanzooError, GBatch
from ganzoo_acgan.options import ACGANLossOptions


class ACGANLoss(NonSaturatingObjective):
    """D: NS loss + w (CE(class | x) + f CE(class | G(z, c))); G: NS loss + w CE(c | G(z, c))."""

    def __init__(self, options: ACGANLossOptions | None = None) -> None:
        options = options or ACGANLossOptions()
        self.class_weight, self.fake_class_weight = options.class_weight, options.fake_class_weight

    def d_objective(self, batch: DBatch) -> torch.Tensor:
        labels = _labels(batch.labels)
        classes = F.cross_entropy(batch.real_out["class_logits"], labels)
        if self.fake_class_weight:
            classes = classes + self.fake_class_weight * F.cross_entropy(batch.fake_out["class_logits"], labels)
        return super().d_objective(batch) + self.class_weight * classes

    def g_objective(self, batch: GBatch) -> torch.Tensor:
        classes = F.cross_entropy(batch.fake_out["class_logits"], _labels(batch.labels))
        return super().g_objective(batch) + self.class_weight * classes


def _labels(labels: torch.Tensor | None) -> torch.Tensor:
    if labels is None:
        raise GanzooError("the acgan loss needs class labels: train a conditional recipe (conditional = true)")
    return labels


class TwinACGANLoss(ACGANLoss):
    """TAC-GAN (Gong et al. 2019): ACGAN plus a twin class head that D trains on fakes and G fights.

    ACGAN's G term alone rewards the fakes its class head is surest of, which pulls each class towards one
    prototype. The twin head learns to tell the fakes' classes apart; G maximising its cross-entropy undoes
    that pull, so that together the two terms match each class's distribution rather than its mode.
    """

    def d_objective(self, batch: DBatch) -> torch.Tensor:
        twin = F.cross_entropy(batch.fake_out["twin_logits"], _labels(batch.labels))
        return super().d_objective(batch) + self.class_weight * twin

    def g_objective(self, batch: GBatch) -> torch.Tensor:
        twin = F.cross_entropy(batch.fake_out["twin_logits"], _labels(batch.labels))
        return super().g_objective(batch) - self.class_weight * twin
