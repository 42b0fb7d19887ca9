"""R3GAN's generator and discriminator: plain ResNets of inverted-bottleneck blocks, one stage per resolution.

G starts from a learned 4x4 basis, each channel of it scaled by a linear function of z (and of the class
embedding, for a conditional G), then doubles the resolution stage by stage (bilinear upsampling) up to the
image size; a 1x1 convolution and tanh give the image. D mirrors it: a 1x1 convolution from the image, stage
by stage halved (average pooling) down to 4x4 (optionally joined by a minibatch-std channel), where a learned
depthwise 4x4 filter per channel (the "end") reduces each map to one feature; a linear layer gives the logit,
and a conditional D adds the projection (Miyato & Koyama 2018) of the features on the class's embedding.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.plugin import MinibatchStd, one_hot_block
from ganzoo_r3gan.layers import he_init_, stage
from ganzoo_r3gan.options import R3GANDiscriminatorOptions, R3GANGeneratorOptions, stage_widths

BASE = 4


def _labels(c: torch.Tensor | None, num_classes: int, batch: int, who: str) -> torch.Tensor:
    if c is None or c.shape != (batch,) or c.dtype.is_floating_point or c.dtype == torch.bool:
        got = "none" if c is None else f"{c.dtype} of shape {list(c.shape)}"
        raise ValueError(f"{who} is conditional on {num_classes} classes: pass c as integer class indices of "
                         f"shape [{batch}]; got {got}")
    return c


class R3GANGenerator(nn.Module):
    """z -> learned 4x4 basis -> (upsample, residual blocks) per resolution -> 1x1 conv -> tanh."""

    def __init__(self, options: R3GANGeneratorOptions, *, shape: tuple[int, ...], num_classes: int = 0) -> None:
        super().__init__()
        widths = stage_widths(options, shape[1])
        self.latent_dim, self.num_classes = options.latent_dim + options.categorical, num_classes
        self.categorical = options.categorical
        self.embed = nn.Embedding(num_classes, options.embedding_dim) if num_classes else None
        in_dim = self.latent_dim + (options.embedding_dim if num_classes else 0)
        self.basis = nn.Parameter(torch.randn(widths[0], BASE, BASE))
        self.modulation = he_init_(nn.Linear(in_dim, widths[0]), gain=1.0)
        total = len(widths) * options.blocks
        self.stages = nn.ModuleList(stage(width, options.blocks, expansion=options.expansion,
                                          group_size=options.group_size, total_blocks=total) for width in widths)
        # between stages: fewer channels by a 1x1 convolution at the lower resolution (cheaper), then upsampling
        self.transitions = nn.ModuleList(_transition(a, b) for a, b in zip(widths, widths[1:]))
        self.to_image = he_init_(nn.Conv2d(widths[-1], shape[0], 1), gain=1.0)

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"R3GANGenerator expects z of shape [N, {self.latent_dim}]; got {list(z.shape)}")
        z = one_hot_block(z, self.categorical)
        if self.embed is not None:
            z = torch.cat([z, self.embed(_labels(c, self.num_classes, len(z), "R3GANGenerator"))], dim=1)
        x = self.basis[None] * self.modulation(z)[:, :, None, None]
        x = self.stages[0](x)
        for transition, blocks in zip(self.transitions, self.stages[1:]):
            x = F.interpolate(transition(x), scale_factor=2.0, mode="bilinear", align_corners=False)
            x = blocks(x)
        return torch.tanh(self.to_image(x))


class R3GANDiscriminator(nn.Module):
    """image -> 1x1 conv -> (residual blocks, average pool) per resolution -> learned 4x4 end -> one logit."""

    def __init__(self, options: R3GANDiscriminatorOptions, *, shape: tuple[int, ...], num_classes: int = 0) -> None:
        super().__init__()
        widths = stage_widths(options, shape[1])[::-1]  # from the image's resolution down to 4x4
        width = widths[-1]
        self.num_classes = num_classes
        self.from_image = he_init_(nn.Conv2d(shape[0], widths[0], 1), gain=1.0)
        total = len(widths) * options.blocks
        self.stages = nn.ModuleList(stage(w, options.blocks, expansion=options.expansion,
                                          group_size=options.group_size, total_blocks=total) for w in widths)
        # between stages: average pooling, then more channels by a 1x1 convolution at the lower resolution
        self.transitions = nn.ModuleList(_transition(a, b) for a, b in zip(widths, widths[1:]))
        # a minibatch-std channel at 4x4 (Karras et al. 2018) lets D see a group of near copies
        self.minibatch_std = MinibatchStd(options.minibatch_std) if options.minibatch_std else nn.Identity()
        width += 1 if options.minibatch_std else 0
        self.end = he_init_(nn.Conv2d(width, width, BASE, groups=width, bias=False))  # depthwise 4x4 -> 1x1
        self.logit = he_init_(nn.Linear(width, 1), gain=1.0)
        self.embed = nn.Embedding(num_classes, width) if num_classes else None
        if self.embed is not None:
            nn.init.normal_(self.embed.weight, 0.0, 1.0 / math.sqrt(width))

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        h = self.stages[0](self.from_image(x))
        for transition, blocks in zip(self.transitions, self.stages[1:]):
            h = blocks(transition(F.avg_pool2d(h, 2)))
        features = self.end(self.minibatch_std(h)).flatten(1)
        logits = self.logit(features).squeeze(1)
        if self.embed is not None:
            labels = _labels(c, self.num_classes, len(x), "R3GANDiscriminator")
            logits = logits + (self.embed(labels) * features).sum(dim=1)
        return logits



def _transition(fan_in: int, fan_out: int) -> nn.Module:
    """A 1x1 convolution between stages of different widths (linear: the residual stream has no activation)."""
    return he_init_(nn.Conv2d(fan_in, fan_out, 1), gain=1.0) if fan_in != fan_out else nn.Identity()
