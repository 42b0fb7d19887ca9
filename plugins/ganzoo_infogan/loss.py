"""InfoGAN's objective: the non-saturating GAN loss plus lambda times the mutual-information lower bound.

L_I = CE(Q_cat(x), c_cat) + (1/2) ||Q_cont(x) - c_cont||^2 (a unit-variance Gaussian Q), on fakes, minimised in
D's step (training Q and the body it shares with D) and in G's step (training G to make the codes readable).
The terms can wait for a warm-up (``start_from``): a code switched on while G still draws blobs settles on
whatever Q reads off the blobs first, and on digits that split holds for the rest of the run.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F

from ganzoo.plugin import NonSaturatingObjective, DBatch, DOutput, GanzooError, GBatch
from ganzoo_infogan.options import InfoGANLossOptions

NO_CODES = "the infogan loss needs a generator that owns its latent codes ('infogan', or 'mlp' with categorical > 0)"


def real_information(real_out: DOutput, codes: Mapping[str, torch.Tensor] | None) -> torch.Tensor:
    """Q's mutual information between real images and its categorical guess, over the batch: the entropy of the
    mean guess (every value used equally) less the mean entropy of each guess (each image given one value
    confidently), as CatGAN (Springenberg 2016) asks of its classifier. No labels are read."""
    if codes is None:
        raise GanzooError(NO_CODES)
    k = real_out["codes"].shape[1] - codes["continuous"].shape[1]
    p = F.softmax(real_out["codes"][:, :k], dim=1)
    mean = p.mean(dim=0)
    marginal = -(mean * mean.clamp_min(1e-8).log()).sum()
    conditional = -(p * p.clamp_min(1e-8).log()).sum(dim=1).mean()
    return marginal - conditional


def fading(progress: float, decay_from: float) -> float:
    """A term's factor at ``progress`` (share of the run done): 1 up to ``decay_from``, then linear to 0 at the
    run's end."""
    if progress <= decay_from:
        return 1.0
    return max(0.0, (1.0 - progress) / (1.0 - decay_from))


class InfoGANLoss(NonSaturatingObjective):
    def __init__(self, options: InfoGANLossOptions | None = None) -> None:
        options = options or InfoGANLossOptions()
        self.categorical_weight, self.continuous_weight = options.categorical_weight, options.continuous_weight
        self.real_weight, self.decay_from = options.real_weight, options.decay_from
        self.start_from = options.start_from

    def started(self, progress: float) -> bool:
        """Whether the warm-up (``start_from``, the plain GAN alone) is over at ``progress``."""
        return progress >= self.start_from

    def schedule(self, progress: float) -> float:
        """The information weights' factor at ``progress`` (share of the run done)."""
        return fading(progress, self.decay_from) if self.started(progress) else 0.0

    def information(self, fake_out: DOutput, codes: Mapping[str, torch.Tensor] | None,
                    progress: float = 0.0) -> torch.Tensor:
        if codes is None:
            raise GanzooError(NO_CODES)
        predicted = fake_out["codes"]
        k = predicted.shape[1] - codes["continuous"].shape[1]
        if k < 2:
            raise GanzooError(f"the discriminator predicts {predicted.shape[1]} code values, but the generator has "
                              f"{codes['continuous'].shape[1]} continuous codes: give both the same codes")
        categorical = F.cross_entropy(predicted[:, :k], codes["categorical"])
        continuous = 0.5 * (predicted[:, k:] - codes["continuous"].float()).square().sum(dim=1).mean()
        return self.schedule(progress) * (self.categorical_weight * categorical + self.continuous_weight * continuous)

    def d_objective(self, batch: DBatch) -> torch.Tensor:
        loss = super().d_objective(batch) + self.information(batch.fake_out, batch.codes, batch.progress)
        if self.real_weight and self.started(batch.progress):
            loss = loss - self.real_weight * real_information(batch.real_out, batch.codes)
        return loss

    def g_objective(self, batch: GBatch) -> torch.Tensor:
        return super().g_objective(batch) + self.information(batch.fake_out, batch.codes, batch.progress)
