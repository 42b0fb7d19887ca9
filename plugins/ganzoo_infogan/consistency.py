"""Q's categorical guess made to agree between a real image and a slightly moved copy of it.

InfoGAN's code finds whatever split of the data is easiest to read back; on digits that is often a split by
stroke thickness or size, or one digit over two values while two others share one. What makes an unsupervised
split follow the classes is invariance: a digit shifted, turned or scaled a little is the same digit, so a
split worth keeping gives the image and its moved copy the same value. IIC (Ji et al. 2019) asks exactly that
of a clustering head: it maximises the mutual information between the head's guesses on the two, which is
high only when each guess is confident, the values are used evenly and the pair agree. Here the head is Q,
on real images, in D's step; no labels are read.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ganzoo.plugin import DBatch, DOutput, GanzooError, Regularizer
from ganzoo_infogan.loss import fading
from ganzoo_infogan.options import CodeConsistencyOptions


def random_affine(x: torch.Tensor, *, degrees: float, shift: float, scale: float,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """Each image turned by up to ``degrees``, moved by up to ``shift`` of its size and scaled by up to
    ``1 +- scale``, drawn per image (from ``generator``, on x's device); the border pixels fill what comes in
    from outside (the background)."""
    n = x.shape[0]

    def uniform(*shape: int) -> torch.Tensor:  # in [-1, 1)
        return torch.rand(*shape, device=x.device, generator=generator) * 2 - 1

    angle = uniform(n) * math.radians(degrees)
    factor = 1 + uniform(n) * scale
    move = uniform(n, 2) * 2 * shift  # affine_grid's coordinates span 2
    cos, sin = torch.cos(angle) / factor, torch.sin(angle) / factor
    theta = torch.stack([torch.stack([cos, -sin, move[:, 0]], 1), torch.stack([sin, cos, move[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def paired_information(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """I(a; b) of two categorical guesses on the same images (rows of ``p`` and ``q``), from their symmetrised
    joint over the batch: log k when every guess is certain, the values even and the pairs agree, 0 at best
    when the guesses ignore the image."""
    joint = p.t() @ q / p.shape[0]
    joint = ((joint + joint.t()) / 2).clamp_min(1e-8)
    return (joint * (joint.log() - joint.sum(1, keepdim=True).log() - joint.sum(0, keepdim=True).log())).sum()


class CodeConsistency(Regularizer):
    """-I(Q(x); Q(T(x))) on the real batch, T a small random affine move; weight as any penalty's."""

    def __init__(self, options: CodeConsistencyOptions | None = None) -> None:
        options = options or CodeConsistencyOptions()
        self.degrees, self.shift, self.scale = options.degrees, options.shift, options.scale
        self.categorical, self.decay_from = options.categorical, options.decay_from

    def penalty(self, batch: DBatch) -> torch.Tensor | None:
        factor = fading(batch.progress, self.decay_from)
        if factor == 0.0:
            return None
        real = batch.real.detach()
        if real.dim() != 4:
            raise GanzooError("code-consistency moves images: it needs image data ([N, C, H, W])")
        moved = random_affine(real.float(), degrees=self.degrees, shift=self.shift, scale=self.scale)
        codes = DOutput.of(batch.critic(torch.cat([real, moved.to(real.dtype)]), _twice(batch.labels)))["codes"]
        guess = F.softmax(codes[:, : self.categorical].float(), dim=1)
        return -factor * paired_information(*guess.chunk(2))


def _twice(labels: torch.Tensor | None) -> torch.Tensor | None:
    return None if labels is None else torch.cat([labels, labels])
