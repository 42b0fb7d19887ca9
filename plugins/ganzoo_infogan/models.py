"""InfoGAN's generator (which owns its latent prior) and its discriminator with a Q head."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.plugin import ConvGenerator, HeadedDiscriminator
from ganzoo_infogan.options import InfoGANDiscriminatorOptions, InfoGANGeneratorOptions

TRAVERSAL = 10  # values of a continuous code in a traversal row, from -2 to 2 (the paper's figures)


class InfoGANGenerator(nn.Module):
    """z ~ N(0, I) of ``noise_dim + categorical + continuous`` -> (noise, one-hot code, continuous codes) -> image.

    ``latent_dim`` is z's full width, so any sampler drawing standard normal z draws from the prior.
    """

    def __init__(self, options: InfoGANGeneratorOptions, *, shape: tuple[int, ...], num_classes: int = 0) -> None:
        super().__init__()
        self.noise_dim, self.categorical, self.continuous = options.noise_dim, options.categorical, options.continuous
        self.latent_dim = self.noise_dim + self.categorical + self.continuous
        self.num_classes = 0
        self.net = ConvGenerator(shape=shape, latent_dim=self.latent_dim, width=options.width)

    def latent_codes(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        """The codes a z holds: ``categorical`` [N] (long) and ``continuous`` [N, continuous]."""
        n, k = self.noise_dim, self.categorical
        return {"categorical": z[:, n : n + k].argmax(dim=1), "continuous": z[:, n + k :]}

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"InfoGANGenerator expects z of shape [N, {self.latent_dim}]; got {list(z.shape)}")
        codes = self.latent_codes(z)
        one_hot = F.one_hot(codes["categorical"], self.categorical).to(z.dtype)
        return self.net(torch.cat([z[:, : self.noise_dim], one_hot, codes["continuous"]], dim=1))

    # ------------------------------------------------------------ traversals (ganzoo sample --vary)
    def code_names(self) -> list[str]:
        return ["categorical", *(f"continuous-{i}" for i in range(self.continuous))]

    def vary(self, z: torch.Tensor, code: str) -> torch.Tensor:
        """Each row of ``z`` repeated with ``code`` set to each of its traversal values, all else fixed:
        [len(z) * values, latent_dim], row after row."""
        if code not in self.code_names():
            raise ValueError(f"unknown code {code!r}; this generator has: {', '.join(self.code_names())}")
        n, k = self.noise_dim, self.categorical
        if code == "categorical":
            values = torch.arange(k, device=z.device)
            rows = z.repeat_interleave(k, dim=0)
            block = torch.full((len(rows), k), -1.0, device=z.device, dtype=z.dtype)
            block[torch.arange(len(rows)), values.repeat(len(z))] = 1.0  # its arg-max: the chosen value
            rows[:, n : n + k] = block
            return rows
        index = n + k + int(code.rsplit("-", 1)[1])
        values = torch.linspace(-2.0, 2.0, TRAVERSAL, device=z.device, dtype=z.dtype)
        rows = z.repeat_interleave(TRAVERSAL, dim=0)
        rows[:, index] = values.repeat(len(z))
        return rows


class InfoGANDiscriminator(HeadedDiscriminator):
    """DCGAN body; ``codes`` = [categorical logits | continuous means], a Q head sharing the body."""

    def __init__(self, options: InfoGANDiscriminatorOptions, *, shape: tuple[int, ...], num_classes: int = 0) -> None:
        super().__init__(width=options.width, spectral_norm=options.spectral_norm, shape=shape,
                         heads={"codes": options.categorical + options.continuous},
                         minibatch_std=options.minibatch_std, head_hidden=options.q_hidden)
        self.categorical, self.continuous = options.categorical, options.continuous
        self.num_classes = 0
