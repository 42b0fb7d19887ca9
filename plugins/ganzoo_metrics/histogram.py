"""The reverse KL of a histogram against the uniform distribution, shared by mode and class coverage."""

from __future__ import annotations

import math

import torch


def reverse_kl_uniform(counts: torch.Tensor) -> float:
    """KL(p || uniform) in nats for the histogram ``counts`` over K bins: 0 when every bin is equally full,
    log K when all the mass is in one bin. An empty histogram (nothing to judge) scores that maximum, log K,
    so the figure stays finite and still reads as "as bad as total collapse"."""
    counts = counts.to(torch.float64)
    bins, total = counts.numel(), float(counts.sum())
    if total <= 0:
        return math.log(bins)
    p = counts[counts > 0] / total
    return float((p * (p * bins).log()).sum())
