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

    def __init__(self, *, width: int, spectral_norm: bool, shape: tuple[int, ...], heads: dict[str, int],
                 minibatch_std: int = 0, head_hidden: int = 0) -> None:
        super().__init__()
        options = DCGANDiscriminatorOptions(width=width, spectral_norm=spectral_norm, minibatch_std=minibatch_std)
        body = DCGANDiscriminator(options, shape=shape)
        self.features, self.minibatch_std, self.head = body.features, body.minibatch_std, body.head
        # the heads read the last feature map itself, not the minibatch-std channel the real/fake head adds
        flat = (body.head.in_channels - len(body.minibatch_std)) * body.head.kernel_size[0] * body.head.kernel_size[1]
        self.heads = nn.ModuleDict({name: _head(flat, size, head_hidden, spectral_norm) for name, size in heads.items()})

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        h = self.features(x)
        out = {"logits": self.head(self.minibatch_std(h)).flatten()}
        flat = h.flatten(1)
        for name, layer in self.heads.items():
            out[name] = layer(flat)
        return out


def _head(flat: int, size: int, hidden: int, spectral_norm: bool) -> nn.Module:
    """A linear map of the flattened features, or (``hidden`` > 0) InfoGAN's Q network: a hidden layer with
    batch norm and leaky ReLU before it, so the head can read codes that no single linear map separates."""
    if hidden:
        layers: list[nn.Module] = [nn.Linear(flat, hidden), nn.BatchNorm1d(hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, size)]
    else:
        layers = [nn.Linear(flat, size)]
    for layer in layers:
        if isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, 0.0, 0.02)
            nn.init.zeros_(layer.bias)
            if spectral_norm and not hidden:
                nn.utils.parametrizations.spectral_norm(layer)
    return layers[0] if len(layers) == 1 else nn.Sequential(*layers)


class ACGANDiscriminator(HeadedDiscriminator):
    def __init__(self, options: ACGANDiscriminatorOptions, *, shape: tuple[int, ...], num_classes: int = 0) -> None:
        heads = {"class_logits": num_classes} if num_classes else {}
        super().__init__(width=options.width, spectral_norm=options.spectral_norm, shape=shape, heads=heads)
        self.num_classes = num_classes
