"""The pieces the DCGAN generator and discriminator share: their layout, their initialisation, and the
checks of what they are given."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.plugin import group_spread
from ganzoo_dcgan.options import SUPPORTED_SIZES, supported_size


def layout(shape: tuple[int, ...], width: int) -> tuple[int, list[int]]:
    """The side of the smallest feature map, and the channels of each map from the smallest to the largest.

    Each map doubles the side of the one before it and halves its channels, ending at ``width``: the
    symmetric layout of the DCGAN paper, where G reads it forwards and D backwards.
    """
    if not supported_size(shape):
        raise ValueError(f"DCGAN takes square images of sizes {SUPPORTED_SIZES}; got a sample shape {list(shape)}")
    size = shape[1]
    base = 7 if size % 7 == 0 else 4
    doublings = (size // base).bit_length() - 1
    return base, [width * 2**i for i in reversed(range(doublings))]


def init_dcgan_(module: nn.Module) -> None:
    """Weights N(0, 0.02) and batch-norm scales N(1, 0.02), biases zero, as the DCGAN paper prescribes.

    Class embeddings are left alone: G's is joined to z ~ N(0, 1) and keeps the same scale, so that the
    class weighs as much as the noise from the first step.
    """
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
        else:
            continue
        if getattr(m, "bias", None) is not None:
            nn.init.zeros_(m.bias)


def check_labels(c: torch.Tensor | None, num_classes: int, batch: int, who: str) -> torch.Tensor:
    """The labels a conditional model needs, or a ValueError that says what was expected.

    The range is not checked: that would synchronise with the GPU on every step, and the embedding or
    one-hot already rejects an index out of range.
    """
    if c is None:
        raise ValueError(
            f"{who} is conditional on {num_classes} classes: pass c, a LongTensor of class indices of shape [N]"
        )
    if c.shape != (batch,) or c.dtype.is_floating_point or c.dtype == torch.bool:
        raise ValueError(
            f"{who} expects c as integer class indices of shape [{batch}]; got {c.dtype} of shape {list(c.shape)}"
        )
    return c.long()


def label_maps(c: torch.Tensor, num_classes: int, like: torch.Tensor) -> torch.Tensor:
    """One-hot class maps the size of the image ``like``, to concatenate to it as extra channels."""
    onehot = F.one_hot(c, num_classes).to(like.dtype)
    return onehot[:, :, None, None].expand(-1, -1, *like.shape[2:])


class LatentProjection(nn.ConvTranspose2d):
    """G's first layer: z as a 1x1 map through a transposed convolution that fills the base map.

    On a 1x1 input that convolution is one matrix product, and computed as one it is about 3x faster on a
    CPU (mkldnn's transposed convolution is slow at this shape: 3.2 vs 1.1 ms forward and backward, batch 64,
    96 -> 64 channels at 4x4; benchmarks/dcgan_layers.py). The weights stay a ConvTranspose2d's, so weights
    files and their keys do not change.
    """

    def forward(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        n, channels, height, width = x.shape
        plain = self.padding != (0, 0) or self.dilation != (1, 1) or self.output_padding != (0, 0)
        if (height, width) != (1, 1) or output_size is not None or self.groups != 1 or plain:
            return super().forward(x, output_size)
        weight = self.weight  # read once: a parametrised weight is recomputed on every read
        out = (x.reshape(n, channels) @ weight.reshape(channels, -1)).reshape(n, self.out_channels, *self.kernel_size)
        if self.bias is not None:
            out = out + self.bias[:, None, None]
        # the layout the following layers were given (channels_last when the run asked for it)
        if weight.is_contiguous(memory_format=torch.channels_last) and not weight.is_contiguous():
            out = out.contiguous(memory_format=torch.channels_last)
        return out


class WholeMapHead(nn.Conv2d):
    """D's head: a convolution whose kernel covers the whole last feature map, giving one logit per sample.

    That is one matrix product, and computed as one it is 2-3x faster on a CPU than mkldnn's convolution at
    this shape (batch 128, 65 x 4 x 4 -> 1: 0.95 vs 0.44 ms forward and backward; benchmarks/dcgan_layers.py).
    Same weights and keys as the Conv2d; any other input size is the plain convolution.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # self.weight once: under spectral norm each read of it is a power iteration
        plain = self.padding != (0, 0) or self.dilation != (1, 1) or self.groups != 1
        if tuple(x.shape[-2:]) != self.kernel_size or plain:
            return super().forward(x)
        return F.linear(x.flatten(1), self.weight.flatten(1), self.bias)[:, :, None, None]


class MinibatchStd(nn.Module):
    """Karras et al. (2018): one more feature channel holding how much the samples of a small group differ.

    A generator that collapses draws groups of near copies, whose standard deviation D can see, so D
    learns to punish it. Groups are runs of ``group`` consecutive samples (the trainer puts reals and fakes
    in separate halves of one batch, so a group never mixes the two); a batch that ``group`` does not divide
    uses the largest size that does.
    """

    def __init__(self, group: int) -> None:
        super().__init__()
        self.group = int(group)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        n, _, height, width = h.shape
        extra = group_spread(h, self.group).reshape(n, 1, 1, 1).expand(n, 1, height, width)
        return torch.cat([h, extra], dim=1)
