"""The one way ganzoo draws samples from a generator: ``ganzoo sample``, ``ganzoo.sample``, the trainer's
sample grids and evaluation all come here, so the same seed and class give the same samples everywhere.

The noise is ``torch.randn(n, latent_dim)`` from a private ``torch.Generator`` seeded with ``seed`` (drawn
on the CPU, then moved: the same on every device), never the global random state, so that sampling in the
middle of a training run does not change what the run does next. A conditional generator draws one class
(``label``) or every class in equal consecutive blocks (sample ``i`` of ``n`` gets class ``i * K // n``): a
grid's rows are its classes, and a set of samples has the classes' balanced prior. A self-conditioned
generator (its classes are clusters of the training data) draws them in blocks sized by their training
frequencies instead (``prior``), so its samples follow the data's mixture.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def latents(n: int, latent_dim: int, seed: int) -> torch.Tensor:
    """``n`` latent vectors (on the CPU) from a private generator seeded with ``seed``."""
    return torch.randn(n, latent_dim, generator=torch.Generator().manual_seed(int(seed)))


def class_labels(n: int, num_classes: int, label: int | None = None,
                 prior: Sequence[float] | None = None) -> torch.Tensor | None:
    """``n`` labels: all ``label``, or each class in turn in blocks (equal, or sized by ``prior``); None for an
    unconditional model."""
    if not num_classes:
        return None
    if label is not None:
        return torch.full((n,), int(label), dtype=torch.long)
    if prior is not None:  # sample i takes the class whose share of the cumulative prior holds (i + 1/2) / n
        edges = torch.tensor(list(prior), dtype=torch.float64).cumsum(0)
        return torch.searchsorted(edges, (torch.arange(n, dtype=torch.float64) + 0.5) / n).clamp_(max=num_classes - 1)
    return torch.arange(n) * num_classes // n


@torch.no_grad()
def generate(generator: nn.Module, z: torch.Tensor, labels: torch.Tensor | None = None, *,
             device: torch.device | str | None = None, batch_size: int = 500) -> torch.Tensor:
    """G's samples of ``z`` (and ``labels``) in eval mode (its train mode restored after), in batches of
    ``batch_size``, on ``device`` (default: the generator's), as G gives them (dtype and device)."""
    if device is None:
        device = next(iter(generator.parameters()), torch.empty(0)).device
    was_training = generator.training
    generator.eval()
    try:
        chunks = []
        for start in range(0, len(z), batch_size):
            c = None if labels is None else labels[start : start + batch_size].to(device)
            chunks.append(generator(z[start : start + batch_size].to(device), c))
    finally:
        generator.train(was_training)
    return torch.cat(chunks) if len(chunks) != 1 else chunks[0]


def draw(generator: nn.Module, n: int, *, seed: int = 0, latent_dim: int, num_classes: int = 0,
         label: int | None = None, labels: torch.Tensor | None = None, device: torch.device | str | None = None,
         batch_size: int = 500, prior: Sequence[float] | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``n`` seeded samples (float32, on the CPU) and the labels they were drawn for (None if unconditional):
    class ``label``, the given ``labels``, or every class in blocks (:func:`class_labels`)."""
    if not num_classes:
        labels = None  # an unconditional generator takes no labels
    elif labels is None:
        labels = class_labels(n, num_classes, label, prior)
    z = latents(n, latent_dim, seed)
    return generate(generator, z, labels, device=device, batch_size=batch_size).float().cpu(), labels
