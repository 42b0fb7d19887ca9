"""Mode seeking (Mao et al. 2019, MSGAN): a term on G's loss that pays G for drawing two noises apart.

A conditional G that draws near-copies within a class is a conditional mode collapse that the adversarial
loss barely sees: each copy looks real. MSGAN's remedy compares two fakes of one class with the two noises
they came from, ratio = mean |G(z1, c) - G(z2, c)| / mean |z1 - z2|, and adds 1 / (ratio + eps) to G's
loss: large while the fakes sit closer than their noises, small once they spread. Pairs are formed within
a class (its fakes two by two; an odd one out sits out), or among all fakes for an unconditional G. The
means are over every pair in the batch at once, as MSGAN takes them.
"""

from __future__ import annotations

from typing import Any

import torch

from ganzoo.plugin import GanzooError, GBatch, Regularizer

EPS = 1e-5


def same_class_pairs(labels: torch.Tensor | None, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices (first, second) of disjoint pairs of fakes that share a class (any two, unconditional): the
    members of each class in turn, two by two; a class's odd one out sits out."""
    if labels is None:
        return torch.arange(0, n - 1, 2), torch.arange(1, n, 2)
    labels = labels.cpu()
    order = labels.argsort(stable=True)
    ranked = labels[order]
    new_class = torch.ones(n, dtype=torch.bool)
    new_class[1:] = ranked[1:] != ranked[:-1]
    start = torch.cummax(torch.where(new_class, torch.arange(n), 0), dim=0).values
    rank = torch.arange(n) - start  # position within its class
    at = torch.arange(n - 1)
    pair = (rank[:-1] % 2 == 0) & (ranked[1:] == ranked[:-1])
    return order[at[pair]], order[at[pair] + 1]


class ModeSeeking(Regularizer):
    def __init__(self, options: Any = None) -> None:
        pass

    def g_penalty(self, batch: GBatch) -> torch.Tensor | None:
        if batch.z is None:
            raise GanzooError("mode-seeking needs the noise the fakes were drawn from; this trainer gives none")
        first, second = same_class_pairs(batch.labels, len(batch.fake))
        if len(first) == 0:
            return None
        fake = batch.fake.float()
        spread = (fake[first] - fake[second]).abs().mean()
        noise = (batch.z[first] - batch.z[second]).abs().mean().float()
        return 1.0 / (spread / noise + EPS)
