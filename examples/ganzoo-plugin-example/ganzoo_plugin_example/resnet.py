"""A small ResNet generator and discriminator in the style of SN-GAN (Miyato et al. 2018) for small images.

G: z -> linear -> 4x4 map -> one upsampling residual block per doubling of the side -> BN, ReLU, 3x3 conv,
tanh. D: one downsampling residual block per halving of the side down to 4x4 -> ReLU -> sum over space ->
linear -> one logit (no sigmoid; the loss reads logits). Unconditional: a ``c`` given to either is ignored.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from ganzoo_plugin_example.options import ResNetDiscriminatorOptions, ResNetGeneratorOptions


def _doublings(shape: tuple[int, ...]) -> int:
    """How many times a 4x4 map doubles to reach the image side (3 for 32x32)."""
    return int(math.log2(shape[-1] // 4))


class UpBlock(nn.Module):
    """BN, ReLU, 2x nearest upsampling, 3x3 conv, BN, ReLU, 3x3 conv; plus an upsampled 1x1-conv shortcut."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.bn1, self.bn2 = nn.BatchNorm2d(channels), nn.BatchNorm2d(channels)
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.shortcut = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.interpolate(F.relu(self.bn1(x)), scale_factor=2)
        h = self.conv2(F.relu(self.bn2(self.conv1(h))))
        return h + self.shortcut(F.interpolate(x, scale_factor=2))


class DownBlock(nn.Module):
    """(ReLU,) 3x3 conv, ReLU, 3x3 conv, 2x2 average pooling; plus a 1x1-conv, pooled shortcut.

    The first block skips the leading ReLU, which would otherwise clip the image itself.
    """

    def __init__(self, in_channels: int, channels: int, *, first: bool, sn: bool) -> None:
        super().__init__()
        norm = _spectral_norm if sn else (lambda module: module)
        self.first = first
        self.conv1 = norm(nn.Conv2d(in_channels, channels, 3, padding=1))
        self.conv2 = norm(nn.Conv2d(channels, channels, 3, padding=1))
        self.shortcut = norm(nn.Conv2d(in_channels, channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x if self.first else F.relu(x)
        h = F.avg_pool2d(self.conv2(F.relu(self.conv1(h))), 2)
        return h + self.shortcut(F.avg_pool2d(x, 2))


class ResNetGenerator(nn.Module):
    def __init__(self, options: ResNetGeneratorOptions, *, shape: tuple[int, ...], num_classes: int = 0) -> None:
        super().__init__()
        self.shape = tuple(shape)
        self.latent_dim = options.latent_dim
        self.num_classes = 0  # unconditional: registered without conditional=True, so validation keeps c away
        width = options.width
        self.width = width
        self.project = nn.Linear(options.latent_dim, width * 4 * 4)
        self.blocks = nn.Sequential(*(UpBlock(width) for _ in range(_doublings(self.shape))))
        self.out = nn.Sequential(nn.BatchNorm2d(width), nn.ReLU(), nn.Conv2d(width, self.shape[0], 3, padding=1))

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        h = self.project(z).view(z.shape[0], self.width, 4, 4)
        return torch.tanh(self.out(self.blocks(h)))


class ResNetDiscriminator(nn.Module):
    def __init__(
        self, options: ResNetDiscriminatorOptions, *, shape: tuple[int, ...], num_classes: int = 0
    ) -> None:
        super().__init__()
        self.num_classes = 0
        width, sn = options.width, options.spectral_norm
        channels = [shape[0]] + [width] * _doublings(tuple(shape))
        pairs = zip(channels, channels[1:])
        self.blocks = nn.Sequential(*(DownBlock(c_in, c_out, first=i == 0, sn=sn) for i, (c_in, c_out) in enumerate(pairs)))
        linear = nn.Linear(width, 1)
        self.linear = _spectral_norm(linear) if sn else linear

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        h = F.relu(self.blocks(x)).sum(dim=(2, 3))
        return self.linear(h).squeeze(1)
