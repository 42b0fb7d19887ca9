"""The vanilla GAN of Goodfellow et al. (2014) as fully connected networks, with the cGAN conditioning of
Mirza & Osindero (2014): a learned class embedding is concatenated to G's noise and to D's input.

Images are flattened on the way in and reshaped on the way out, so one pair of models serves 2-D points
and small images alike. An unconditional model ignores a ``c`` it is given: a trainer may pass the labels
of a labelled dataset to every model without asking which of them uses them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from ganzoo.plugin import check_labels, group_spread, one_hot_block
from ganzoo_mlp.options import MLPDiscriminatorOptions, MLPGeneratorOptions


def mlp(
    sizes: Iterable[int], negative_slope: float, dropout: float = 0.0, spectral_norm: bool = False
) -> nn.Sequential:
    """Linear layers with LeakyReLU (and dropout) between them, none after the last: the caller decides
    the output's activation, tanh for G and none for D's logits."""
    sizes = list(sizes)
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
        linear = nn.Linear(fan_in, fan_out)
        layers.append(_spectral_norm(linear) if spectral_norm else linear)
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(negative_slope))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    """z (concatenated with a class embedding when conditional) -> LeakyReLU layers -> tanh, reshaped.

    With ``categorical = K`` the last K entries of z pick a code value by their arg-max (uniform over K, so a
    sampler drawing standard normal z of ``latent_dim`` draws from the prior), given to the net one-hot.
    """

    def __init__(self, options: MLPGeneratorOptions, *, shape: tuple[int, ...], num_classes: int = 0) -> None:
        super().__init__()
        self.shape = tuple(shape)
        self.categorical = options.categorical
        self.latent_dim = options.latent_dim + self.categorical
        self.num_classes = num_classes
        self.embed = nn.Embedding(num_classes, options.embedding_dim) if num_classes else None
        in_dim = self.latent_dim + (options.embedding_dim if num_classes else 0)
        self.net = mlp([in_dim, *options.hidden_dims, math.prod(self.shape)], options.negative_slope)

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"MLPGenerator expects z of shape [N, {self.latent_dim}]; got {list(z.shape)}")
        z = one_hot_block(z, self.categorical)
        if self.embed is not None:
            c = check_labels(c, self.num_classes, z.shape[0], "MLPGenerator")
            z = torch.cat([z, self.embed(c)], dim=1)
        return torch.tanh(self.net(z)).view(z.shape[0], *self.shape)


class CodedMLPGenerator(MLPGenerator):
    """An :class:`MLPGenerator` whose categorical part of the prior is a code a loss can read back (InfoGAN's
    information term asks D's Q head to tell which value drew each fake, so each value keeps to one region)."""

    def latent_codes(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        """``categorical`` [N] (the value z's last ``categorical`` entries pick), ``continuous`` [N, 0] (none)."""
        return {"categorical": z[:, z.shape[1] - self.categorical :].argmax(dim=1), "continuous": z[:, :0]}


def build_generator(options: MLPGeneratorOptions, *, shape: tuple[int, ...], num_classes: int = 0) -> MLPGenerator:
    """The ``mlp`` generator; with a categorical code it also tells which value each z holds."""
    kind = CodedMLPGenerator if options.categorical else MLPGenerator
    return kind(options, shape=shape, num_classes=num_classes)


class MLPDiscriminator(nn.Module):
    """Flattened x (concatenated with a class embedding when conditional) -> LeakyReLU layers -> one logit.

    No batch norm: it couples the samples of a batch, which lets D tell real from fake by batch statistics
    and breaks under DDP with separate real and fake forwards.

    With ``pack = m`` (PacGAN, Lin et al. 2018) each run of m consecutive samples is one input and gets one
    logit, returned once per sample so the trainer's and the losses' contract (one logit per sample, real
    and fake split by position) holds unchanged: the mean over samples equals the mean over packs. Packs
    never mix real and fake as long as each part of a batch is a multiple of m, which forward checks. A
    gradient penalty sees each sample's gradient m times over (its pack's logit is repeated m times): PacGAN
    packs for the logistic losses.

    With ``codes = K`` a Q head (InfoGAN) reads the last hidden features and ``forward`` returns
    ``{"logits": [N], "codes": [N, K]}``.
    """

    def __init__(self, options: MLPDiscriminatorOptions, *, shape: tuple[int, ...], num_classes: int = 0) -> None:
        super().__init__()
        self.num_classes = num_classes
        projection = bool(num_classes) and options.conditioning == "projection"
        joined = num_classes and not projection
        self.embed = nn.Embedding(num_classes, options.embedding_dim) if joined else None
        # projection: <embed(c), last hidden features> joins the logit; small at first, as the logit's weights
        self.project = nn.Embedding(num_classes, options.hidden_dims[-1]) if projection else None
        if self.project is not None:
            nn.init.normal_(self.project.weight, 0.0, 0.02)
        self.pack = options.pack
        in_dim = math.prod(shape) + (options.embedding_dim if joined else 0)
        self.net = mlp(
            [in_dim * self.pack, *options.hidden_dims, 1], options.negative_slope, options.dropout,
            options.spectral_norm,
        )
        self.minibatch_std = options.minibatch_std
        if self.minibatch_std:  # the last layer reads one more feature; every key keeps its name
            last = nn.Linear(self.net[-1].in_features + 1, 1)
            self.net[-1] = _spectral_norm(last) if options.spectral_norm else last
        self.q = nn.Linear(options.hidden_dims[-1], options.codes) if options.codes else None

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor | dict[str, torch.Tensor]:
        h = x.flatten(1)
        if self.num_classes:
            c = check_labels(c, self.num_classes, x.shape[0], "MLPDiscriminator")
        if self.embed is not None:
            h = torch.cat([h, self.embed(c)], dim=1)
        if self.q is not None:
            features = self.net[:-1](h)
            return {"logits": self._head(features, c), "codes": self.q(features)}
        if self.pack == 1:
            return self._logits(h, c)
        if h.shape[0] % self.pack:
            raise ValueError(
                f"MLPDiscriminator packs {self.pack} samples per input: the batch ({h.shape[0]}) must be a "
                f"multiple of {self.pack}; choose train.batch_size accordingly"
            )
        packs = self._logits(h.reshape(h.shape[0] // self.pack, -1))
        return packs.repeat_interleave(self.pack)

    def _logits(self, h: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        if not self.minibatch_std and self.project is None:
            return self.net(h).squeeze(1)
        return self._head(self.net[:-1](h), c)

    def _head(self, h: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        """The logit from the last hidden features ``h``."""
        features = minibatch_std(h, self.minibatch_std) if self.minibatch_std else h
        logits = self.net[-1](features).squeeze(1)
        if self.project is not None:
            logits = logits + (self.project(c) * h).sum(dim=1)
        return logits


def minibatch_std(h: torch.Tensor, group: int) -> torch.Tensor:
    """Karras et al. (2018) for flat features: one more feature, the mean standard deviation of each run of
    ``group`` consecutive rows (reals and fakes sit in separate halves of a batch, so runs never mix them;
    a batch that ``group`` does not divide uses the largest size that does)."""
    return torch.cat([h, group_spread(h, group)[:, None]], dim=1)
