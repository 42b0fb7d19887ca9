"""Top-k training (Sinha et al., NeurIPS 2020): G's step learns from the fakes D rates most real.

In G's step every fake pulls G towards what D wants of it. The fakes D rates worst are those G has furthest to
move, and their pull can drag the samples that already look real off the data along with them; averaging G's
loss over the k best-rated fakes only lets G follow the good ones. Early on D's ratings mean little, so k starts
at the whole batch and falls linearly to its floor (``train.g_top_k``, a fraction) over the first fifth of the
run, where the paper decays it per epoch to the same kind of floor.
"""

from __future__ import annotations

from ganzoo.components import GBatch

#: the share of the run over which k falls from the whole batch to its floor
FALL = 0.2


def top_k_count(step: int, steps: int, batch: int, floor: float) -> int:
    """How many of ``batch`` fakes G's loss averages over at ``step`` (0-based) of ``steps``."""
    if floor >= 1:
        return batch
    fraction = max(floor, 1.0 - (1.0 - floor) * step / max(1.0, FALL * steps))
    return max(1, min(batch, round(fraction * batch)))


def keep_top(batch: GBatch, k: int) -> GBatch:
    """The ``k`` fakes of ``batch`` with the highest logits, with their labels, codes and D outputs (and, for a
    loss that pairs each fake with a real, their reals' outputs, so the pairs stay pairs)."""
    if k >= len(batch.fake_out.logits):
        return batch
    index = batch.fake_out.logits.detach().topk(k).indices
    codes = None if batch.codes is None else {name: value[index] for name, value in batch.codes.items()}
    labels = None if batch.labels is None else batch.labels[index]
    real_out = None if batch.real_out is None else batch.real_out.rows(index)
    z = None if batch.z is None else batch.z[index]
    return GBatch(fake=batch.fake[index], labels=labels, fake_out=batch.fake_out.rows(index), real_out=real_out,
                  codes=codes, progress=batch.progress, z=z)
