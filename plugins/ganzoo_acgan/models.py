"""A DCGAN discriminator body with extra heads: ACGAN's class head here, InfoGAN's Q head in ganzoo_infogan.

The body and the real/fake head are those of ``ganzoo_dcgan`` (built unconditional, so they never read the
label); each extra head is a linear map of the flattened last feature map, sharing everything else.
"""

from __future__ import annotations

import torch
from torch import nn

from ganzoo_acgan.options import ACGANDiscriminatorOptions
from ganzoo_dcgan.models import DCGANDiscriminator
from ganzoo_dcgan.options import DCGANDiscriminatorOptions


class HeadedDiscriminator(nn.Module):
    """``forward(x, c=None) -> {"logits": [N], name: [N, size] for each head}``; ``c`` is not read."""

    def __init__(self, *, width: int, spectral_norm: bool, shape: tuple[int, ...], heads: dict[str, int]) -> None:
        super().__init__()
        body = DCGANDiscriminator(DCGANDiscriminatorOptions(width=width, spectral_norm=spectral_norm), shape=shape)
        self.features, self.head = body.features, body.head
        flat = body.head.in_channels * body.head.kernel_size[0] * body.head.kernel_size[1]
        self.heads = nn.ModuleDict({name: nn.Linear(flat, size) for name, size in heads.items()})
        for layer in self.heads.values():
            nn.init.normal_(layer.weight, 0.0, 0.02)
            nn.init.zeros_(layer.bias)
            if spectral_norm:
                nn.utils.parametrizations.spectral_norm(layer)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        h = self.features(x)
        out = {"logits": self.head(h).flatten()}
        flat = h.flatten(1)
        for name, layer in self.heads.items():
            out[name] = layer(flat)
        return out


class ACGANDiscriminator(HeadedDiscriminator):
    def __init__(self, options: ACGANDiscriminatorOptions, *, shape: tuple[int, ...], num_classes: int = 0) -> None:
        heads = {"class_logits": num_classes} if num_classes else {}
        super().__init__(width=options.width, spectral_norm=options.spectral_norm, shape=shape, heads=heads)
        self.num_classes = num_classes
