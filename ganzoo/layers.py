"""Building blocks that more than one network plugin needs (built-ins and third-party alike).

Plugins reach them through :mod:`ganzoo.plugin`. The convolutional networks here are DCGAN's (Radford, Metz &
Chintala 2016), for square images of the sizes in :mod:`ganzoo.shapes`: strided (transposed) convolutions and
no pooling; batch norm everywhere but G's output and D's input; ReLU in G, LeakyReLU(0.2) in D; tanh out;
weights N(0, 0.02). The ``dcgan`` plugin registers them with its options; ACGAN's and InfoGAN's networks are
built from the same bodies. An unconditional model ignores a ``c`` it is given: a trainer may pass the labels
of a labelled dataset to every model without asking which of them uses them.
"""

from __future__ import annotations

import math
from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from ganzoo.shapes import SUPPORTED_SIZES, supported_size


def group_spread(h: torch.Tensor, group: int) -> torch.Tensor:
    """Minibatch standard deviation (Karras et al. 2018): for each sample, the mean standard deviation of
    its group of ``group`` consecutive samples, feature by feature; shape ``(n,)``.

    Groups are consecutive so that the trainer's real and fake halves of a batch never mix; a batch that
    ``group`` does not divide uses the largest size that does. The variance is written out as a mean of
    squares rather than ``Tensor.var``: reducing over the small middle axis, ``var`` and its backward took
    four to five times as long on the CPU (``benchmarks/minibatch_std.py``), in the main recipe as long as all
    of D's convolutions.
    """
    n = h.shape[0]
    size = math.gcd(n, group) or 1
    grouped = h.float().reshape(n // size, size, -1)
    centred = grouped - grouped.mean(dim=1, keepdim=True)
    std = (centred.square().mean(dim=1) + 1e-8).sqrt().mean(dim=1)
    return std.to(h.dtype).repeat_interleave(size)


def one_hot_block(z: torch.Tensor, k: int) -> torch.Tensor:
    """``z`` with its last ``k`` entries replaced by the one-hot of their arg-max: a uniform categorical part of
    the prior that a sampler of standard normal z draws without knowing of it (a mixture prior, as InfoGAN's
    codes and DeliGAN's components). A continuous map of one Gaussian must draw a bridge between two
    disconnected modes; one code value per region needs none."""
    if not k:
        return z
    noise, block = z.split([z.shape[1] - k, k], dim=1)
    return torch.cat([noise, F.one_hot(block.argmax(dim=1), k).to(z.dtype)], dim=1)


def conv_layout(shape: tuple[int, ...], width: int) -> tuple[int, list[int]]:
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


class ConvGenerator(nn.Module):
    """DCGAN's generator: z -> a base x base map (4x4, or 7x7 for 28-pixel images) -> doubled until the image
    size -> tanh; conditional by a learned class embedding joined to z."""

    def __init__(self, *, shape: tuple[int, ...], latent_dim: int, width: int, num_classes: int = 0,
                 embedding_dim: int = 32, categorical: int = 0) -> None:
        super().__init__()
        base, channels = conv_layout(shape, width)
        self.latent_dim = latent_dim
        self.categorical = categorical  # the last entries of z that pick a code value (one_hot_block)
        self.num_classes = num_classes
        self.embed = nn.Embedding(num_classes, embedding_dim) if num_classes else None
        in_dim = latent_dim + (embedding_dim if num_classes else 0)
        layers = _up_block(in_dim, channels[0], kernel=base, stride=1, padding=0, first=True)
        for fan_in, fan_out in pairwise(channels):
            layers += _up_block(fan_in, fan_out, kernel=4, stride=2, padding=1)
        layers += [nn.ConvTranspose2d(channels[-1], shape[0], 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        init_dcgan_(self)

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"{type(self).__name__} expects z of shape [N, {self.latent_dim}]; got {list(z.shape)}")
        z = one_hot_block(z, self.categorical)
        if self.embed is not None:
            c = check_labels(c, self.num_classes, z.shape[0], type(self).__name__)
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


class ConvDiscriminator(nn.Module):
    """DCGAN's discriminator: image -> halved until a base x base map (4x4, or 7x7 for 28-pixel images) -> one
    logit; conditional by projection or by one-hot label channels.

    With ``spectral_norm`` every layer is spectrally normalised and batch norm is dropped (as in SN-GAN):
    the two fight over the scale of the features, and batch norm makes D's output for one sample depend
    on the rest of the batch, which a gradient penalty per sample assumes it does not. ``batch_norm=False``
    without spectral norm gives WGAN-GP's critic: no normalisation at all.
    """

    def __init__(self, *, shape: tuple[int, ...], width: int, num_classes: int = 0, spectral_norm: bool = False,
                 minibatch_std: int = 0, conditioning: str = "channels", batch_norm: bool = True) -> None:
        super().__init__()
        base, channels = conv_layout(shape, width)
        channels = channels[::-1]
        self.num_classes = num_classes
        self.conditioning = conditioning if num_classes else None
        batch_norm = batch_norm and not spectral_norm
        in_channels = shape[0] + (num_classes if self.conditioning == "channels" else 0)
        # D's input layer has no batch norm (the DCGAN guidelines)
        layers: list[nn.Module] = [nn.Conv2d(in_channels, channels[0], 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
        for fan_in, fan_out in pairwise(channels):
            layers += _down_block(fan_in, fan_out, batch_norm)
        std = [MinibatchStd(minibatch_std)] if minibatch_std else []
        self.features = nn.Sequential(*layers)
        self.minibatch_std = nn.Sequential(*std)  # empty when off: old weights files keep loading
        self.head = WholeMapHead(channels[-1] + len(std), 1, base)
        self.embed = nn.Embedding(num_classes, channels[-1]) if self.conditioning == "projection" else None
        init_dcgan_(self)
        if self.embed is not None:
            # small, like the head's weights, so the class term does not swamp the logit at the start
            nn.init.normal_(self.embed.weight, 0.0, 0.02)
        if spectral_norm:
            _apply_spectral_norm(self)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        if self.conditioning is not None:
            c = check_labels(c, self.num_classes, x.shape[0], type(self).__name__)
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


class HeadedDiscriminator(nn.Module):
    """A :class:`ConvDiscriminator` body (built unconditional) with extra heads on its last feature map beside
    the real/fake logit (ACGAN's class head, InfoGAN's Q head).

    Each head is a linear map of the flattened map, or with ``head_hidden`` a small network (a hidden layer with
    batch norm and leaky ReLU, InfoGAN's Q), for codes no single linear map separates. The heads read the map
    itself, never the minibatch-std channel that ``minibatch_std`` adds before the real/fake head.

    ``forward(x, c=None) -> {"logits": [N], name: [N, size] for each head}``; ``c`` is not read."""

    def __init__(self, *, width: int, spectral_norm: bool, shape: tuple[int, ...], heads: dict[str, int],
                 minibatch_std: int = 0, head_hidden: int = 0) -> None:
        super().__init__()
        body = ConvDiscriminator(width=width, spectral_norm=spectral_norm, shape=shape, minibatch_std=minibatch_std)
        self.features, self.minibatch_std, self.head = body.features, body.minibatch_std, body.head
        flat = (body.head.in_channels - len(body.minibatch_std)) * body.head.kernel_size[0] * body.head.kernel_size[1]
        self.heads = nn.ModuleDict({name: _extra_head(flat, size, head_hidden, spectral_norm)
                                    for name, size in heads.items()})

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        h = self.features(x)
        out = {"logits": self.head(self.minibatch_std(h)).flatten()}
        flat = h.flatten(1)
        for name, layer in self.heads.items():
            out[name] = layer(flat)
        return out


def _extra_head(flat: int, size: int, hidden: int, spectral_norm: bool) -> nn.Module:
    """One extra head, initialised N(0, 0.02) with zero bias; spectrally normalised with its body when linear
    (a hidden layer has its own batch norm)."""
    layers: list[nn.Module] = (
        [nn.Linear(flat, hidden), nn.BatchNorm1d(hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, size)] if hidden
        else [nn.Linear(flat, size)]
    )
    for layer in layers:
        if isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, 0.0, 0.02)
            nn.init.zeros_(layer.bias)
            if spectral_norm and not hidden:
                nn.utils.parametrizations.spectral_norm(layer)
    return layers[0] if len(layers) == 1 else nn.Sequential(*layers)
