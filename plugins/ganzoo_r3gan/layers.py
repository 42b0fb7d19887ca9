"""R3GAN's building blocks: the inverted-bottleneck residual block and its fix-up style initialisation.

With no normalisation layer, nothing keeps the residual stream's variance in check as blocks are added: each
branch adds its own. Fix-up (Zhang et al. 2019), as R3GAN uses it, makes a deep stack start as a near
identity: every branch's last convolution starts at zero, and the layers before it are drawn at the He
scale times L^(-1/(2m - 2)) for L blocks of m layers, so the stream's variance grows by O(1) in total.
"""

from __future__ import annotations

import math

import torch
from torch import nn

NEGATIVE_SLOPE = 0.2
GAIN = math.sqrt(2.0 / (1.0 + NEGATIVE_SLOPE**2))  # He's gain for a leaky ReLU of slope 0.2
BRANCH_LAYERS = 3  # m: 1x1 expand, grouped 3x3, 1x1 project


def he_init_(layer: nn.Conv2d | nn.Linear, scale: float = 1.0, *, gain: float = GAIN) -> nn.Module:
    """Normal weights at He's scale (fan-in; ``gain`` 1 for a layer no activation follows) times ``scale``,
    zero biases."""
    fan_in = layer.weight[0].numel()
    with torch.no_grad():
        layer.weight.normal_(0.0, scale * gain / math.sqrt(fan_in))
        if layer.bias is not None:
            layer.bias.zero_()
    return layer


def activation() -> nn.Module:
    return nn.LeakyReLU(NEGATIVE_SLOPE)


class InvertedBottleneck(nn.Module):
    """x + branch(x), branch = 1x1 conv to ``width * expansion`` channels, grouped 3x3 conv, 1x1 conv back
    to ``width``, each with a bias and the first two with a leaky ReLU; no normalisation."""

    def __init__(self, width: int, *, expansion: int, group_size: int, total_blocks: int) -> None:
        super().__init__()
        inner = width * expansion
        scale = total_blocks ** (-1.0 / (2 * BRANCH_LAYERS - 2))
        self.branch = nn.Sequential(
            he_init_(nn.Conv2d(width, inner, 1), scale), activation(),
            he_init_(nn.Conv2d(inner, inner, 3, padding=1, groups=inner // group_size), scale), activation(),
            nn.Conv2d(inner, width, 1),
        )
        last = self.branch[-1]
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.branch(x)


def stage(width: int, blocks: int, *, expansion: int, group_size: int, total_blocks: int) -> nn.Sequential:
    """``blocks`` residual blocks at one resolution."""
    return nn.Sequential(*(InvertedBottleneck(width, expansion=expansion, group_size=group_size,
                                              total_blocks=total_blocks) for _ in range(blocks)))
