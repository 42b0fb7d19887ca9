"""DCGAN (Radford, Metz & Chintala 2016) for square images of 8 to 128 pixels, with any number of channels.

The guidelines: strided (transposed) convolutions and no pooling; batch norm everywhere but G's output and
D's input; ReLU in G, LeakyReLU(0.2) in D; tanh out; weights N(0, 0.02).

Conditioning on a class c: G joins a learned class embedding to z. D either adds a projection term
<embed(c), sum-pooled features> to its logit (Miyato & Koyama 2018, the default) or reads one-hot label maps
as extra input channels (the cGAN way). An unconditional model ignores a ``c`` it is given: a trainer may
pass the labels of a labelled dataset to every model without asking which of them uses them.
"""

from __future__ import annotations

from itertools import pairwise

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from ganzoo_dcgan.layers import (
    LatentProjection, MinibatchStd, WholeMapHead, check_labels, init_dcgan_, label_maps, layout,
)
from ganzoo_dcgan.options import DCGANDiscriminatorOptions, DCGANGeneratorOptions


class DCGANGenerator(nn.Module):
    """z -> a base x base map (4x4, or 7x7 for 28-pixel images) -> doubled until the image size -> tanh."""

    def __init__(self, options: DCGANGeneratorOptions, *, shape: tuple[int, ...], num_classes: int = 0) -> None:
        super().__init__()
        base, channels = layout(shape, options.width)
        self.latent_dim = options.latent_dim
        self.num_classes = num_classes
        self.embed = nn.Embedding(num_classes, options.embedding_dim) if num_classes else None
        in_dim = options.latent_dim + (options.embedding_dim if num_classes else 0)
        layers = _up_block(in_dim, channels[0], kernel=base, stride=1, padding=0, first=True)
        for fan_in, fan_out in pairwise(channels):
            layers += _up_block(fan_in, fan_out, kernel=4, stride=2, padding=1)
        layers += [nn.ConvTranspose2d(channels[-1], shape[0], 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        init_dcgan_(self)

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"DCGANGenerator expects z of shape [N, {self.latent_dim}]; got {list(z.shape)}")
        if self.embed is not None:
            c = check_labels(c, self.num_classes, z.shape[0], "DCGANGenerator")
            z = torch.cat([z, self.embed(c)], dim=1)
        return self.net(z[:, :, None, None])


def _up_block(
    fan_in: int, fan_out: int, *, kernel: int, stride: int, padding: int, first: bool = False
) -> list[nn.Module]:
    conv = LatentProjection if first else nn.ConvTranspose2d
    # no bias: batch norm's shift replaces it
    return [
        conv(fan_in, fan_out, kernel, stride, padding, bias=False),
        nn.BatchNorm2d(fan_out),
        nn.ReLU(inplace=True),
    ]


class DCGANDiscriminator(nn.Module):
    """image -> halved until a base x base map (4x4, or 7x7 for 28-pixel images) -> one logit.

    With ``spectral_norm`` every layer is spectrally normalised and batch norm is dropped (as in SN-GAN):
    the two fight over the scale of the features, and batch norm makes D's output for one sample depend
    on the rest of the batch, which a gradient penalty per sample assumes it does not.
    """

    def __init__(
        self, options: DCGANDiscriminatorOptions, *, shape: tuple[int, ...], num_classes: int = 0
    ) -> None:
        super().__init__()
        base, channels = layout(shape, options.width)
        channels = channels[::-1]
        self.num_classes = num_classes
        self.conditioning = options.conditioning if num_classes else None
        batch_norm = not options.spectral_norm
        in_channels = shape[0] + (num_classes if self.conditioning == "channels" else 0)
        # D's input layer has no batch norm (the DCGAN guidelines)
        layers: list[nn.Module] = [nn.Conv2d(in_channels, channels[0], 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
        for fan_in, fan_out in pairwise(channels):
            layers += _down_block(fan_in, fan_out, batch_norm)
        std = [MinibatchStd(options.minibatch_std)] if options.minibatch_std else []
        self.features = nn.Sequential(*layers)
        self.minibatch_std = nn.Sequential(*std)  # empty when off: old weights files keep loading
        self.head = WholeMapHead(channels[-1] + len(std), 1, base)
        self.embed = nn.Embedding(num_classes, channels[-1]) if self.conditioning == "projection" else None
        init_dcgan_(self)
        if self.embed is not None:
            # small, like the head's weights, so the class term does not swamp the logit at the start
            nn.init.normal_(self.embed.weight, 0.0, 0.02)
        if options.spectral_norm:
            _apply_spectral_norm(self)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        if self.conditioning is not None:
            c = check_labels(c, self.num_classes, x.shape[0], "DCGANDiscriminator")
        if self.conditioning == "channels":
            x = torch.cat([x, label_maps(c, self.num_classes, x)], dim=1)
        h = self.features(x)
        logits = self.head(self.minibatch_std(h)).flatten()
        if self.conditioning == "projection":
            logits = logits + (self.embed(c) * h.sum(dim=(2, 3))).sum(dim=1)
        return logits


def _down_block(fan_in: int, fan_out: int, batch_norm: bool) -> list[nn.Module]:
    conv = nn.Conv2d(fan_in, fan_out, 4, 2, 1, bias=not batch_norm)
    norm = [nn.BatchNorm2d(fan_out)] if batch_norm else []
    return [conv, *norm, nn.LeakyReLU(0.2, inplace=True)]


def _apply_spectral_norm(module: nn.Module) -> None:
    """Spectrally normalise every convolution and embedding of ``module``, after their initialisation."""
    for m in list(module.modules()):
        if isinstance(m, (nn.Conv2d, nn.Embedding)):
            _spectral_norm(m)
