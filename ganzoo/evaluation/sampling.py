"""Drawing samples from a generator for evaluation: seeded, batched, in eval mode, without touching the
global random state (an evaluation during training must not change what the training run does next)."""

from __future__ import annotations

import torch
from torch import nn


def balanced_labels(n: int, num_classes: int) -> torch.Tensor:
    """``n`` labels with every class as often as possible (0, 1, ..., K-1, 0, 1, ...): the class prior of
    a balanced labelled set, without the sampling noise of drawing labels at random."""
    return torch.arange(n) % num_classes


@torch.no_grad()
def generate(
    generator: nn.Module,
    n: int,
    *,
    seed: int = 0,
    labels: torch.Tensor | None = None,
    latent_dim: int | None = None,
    num_classes: int | None = None,
    device: torch.device | str | None = None,
    batch_size: int = 500,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``n`` samples (float32, on the CPU) and the labels they were drawn for (None if unconditional).

    A conditional generator given no ``labels`` gets :func:`balanced_labels`. The noise comes from a
    private ``torch.Generator`` seeded with ``seed``, so the same seed gives the same samples.
    """
    latent_dim = int(latent_dim if latent_dim is not None else getattr(generator, "latent_dim"))
    classes = int(num_classes if num_classes is not None else getattr(generator, "num_classes", 0))
    if device is None:
        device = next(iter(generator.parameters()), torch.empty(0)).device
    if classes and labels is None:
        labels = balanced_labels(n, classes)
    if labels is not None and not classes:
        labels = None  # an unconditional generator takes no labels
    noise = torch.Generator().manual_seed(int(seed))
    z = torch.randn(n, latent_dim, generator=noise)
    was_training = generator.training
    generator.eval()
    try:
        chunks = []
        for start in range(0, n, batch_size):
            c = None if labels is None else labels[start : start + batch_size].to(device)
            chunks.append(generator(z[start : start + batch_size].to(device), c).float().cpu())
    finally:
        generator.train(was_training)
    return torch.cat(chunks), labels
