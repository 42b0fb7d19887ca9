"""Building blocks that more than one network plugin needs (built-ins and third-party alike)."""

from __future__ import annotations

import math

import torch


def group_spread(h: torch.Tensor, group: int) -> torch.Tensor:
    """Minibatch standard deviation (Karras et al. 2018): for each sample, the mean standard deviation of
    its group of ``group`` consecutive samples, feature by feature; shape ``(n,)``.

    Groups are consecutive so that the trainer's real and fake halves of a batch never mix; a batch that
    ``group`` does not divide uses the largest size that does. The variance is written out as a mean of
    squares rather than ``Tensor.var``: reducing over the small middle axis, ``var`` and its backward took
    four to five times as long on the CPU (``benchmarks/minibatch_std.py``), in the main recipe as long as all
    of D's convolutions.
    """
    n = h.shape[0]
    size = math.gcd(n, group) or 1
    grouped = h.float().reshape(n // size, size, -1)
    centred = grouped - grouped.mean(dim=1, keepdim=True)
    std = (centred.square().mean(dim=1) + 1e-8).sqrt().mean(dim=1)
    return std.to(h.dtype).repeat_interleave(size)
