"""The two 2-D Gaussian mixtures of the mode-collapse literature (Unrolled GAN, VEEGAN, PacGAN, GDPP).

Protocol units are those the papers publish: ring = 8 Gaussians at angles 2*pi*i/8 (i = 0..7; ``linspace``
with its endpoint would repeat angle 0 and give 7 modes), radius 1, std 0.01; grid = 25 Gaussians at
{-4, -2, 0, 2, 4}^2, std 0.05.

Model units are what the generator sees: protocol units times ``scale``. The grid's ±4 must be brought into
[-1, 1], and 1/4 would put the outer modes exactly on tanh's bound (half their mass outside [-1, 1], the
rest reachable only by a saturated tanh). So both mixtures put their outermost centres at 0.8 by default
(grid scale 0.2, ring scale 0.8): at least 20 (scaled) standard deviations inside the bound, so no sample is ever
clipped, and tanh reaches the outer modes at a pre-activation of about 1.1. A uniform scale keeps every
ratio the protocol measures (std / spacing = 0.025 for the grid, std / radius = 0.01 for the ring), so
"within 3 std of its nearest mode" selects the same samples in either unit: evaluation should use
``centres()`` and ``std`` (model units) on generated samples, or divide the samples by ``scale`` and use
``protocol_centres()`` and ``protocol_std``.

Both are endless sources: ``sample(n, generator)`` draws fresh points from the given ``torch.Generator``,
so the "test" split is simply more fresh draws.
"""

from __future__ import annotations

import math

import torch

from ganzoo.plugin import DataInfo
from ganzoo_datasets.common import check_split
from ganzoo_datasets.options import GridOptions, RingOptions, grid_info, ring_info


class GaussianMixture:
    """Equal-weight isotropic Gaussians at fixed centres; ``labelled`` returns the mode index as the class."""

    def __init__(
        self, protocol_centres: torch.Tensor, protocol_std: float, *, scale: float, labelled: bool, info: DataInfo
    ) -> None:
        self._protocol_centres = protocol_centres.to(torch.float32)
        self.protocol_std = float(protocol_std)
        self.scale = float(scale)
        self.std = self.protocol_std * self.scale
        self.labelled = labelled
        self.info = info

    @property
    def num_modes(self) -> int:
        return self._protocol_centres.shape[0]

    def centres(self) -> torch.Tensor:
        """Mode centres in model units, [K, 2], in the order of the mode labels."""
        return self._protocol_centres * self.scale

    def protocol_centres(self) -> torch.Tensor:
        """Mode centres in the published (unscaled) units, [K, 2]."""
        return self._protocol_centres.clone()

    def sample(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """n fresh points [n, 2] float32 (model units) and their mode indices int64 if labelled, else None."""
        device = generator.device if generator is not None else torch.device("cpu")
        modes = torch.randint(0, self.num_modes, (n,), generator=generator, device=device)
        noise = torch.randn(n, 2, generator=generator, device=device)
        x = self.centres().to(device)[modes] + self.std * noise
        return x, (modes if self.labelled else None)


class Ring8(GaussianMixture):
    """8 Gaussians on a circle: the easy mode-collapse test (published best: 8 modes)."""

    RADIUS = 1.0
    PROTOCOL_STD = 0.01

    def __init__(self, options: RingOptions | None = None, *, split: str = "train") -> None:
        options = options if options is not None else RingOptions()
        check_split(split)
        angles = torch.tensor([2.0 * math.pi * i / 8 for i in range(8)], dtype=torch.float64)
        centres = self.RADIUS * torch.stack([angles.cos(), angles.sin()], dim=1)
        super().__init__(
            centres, self.PROTOCOL_STD, scale=options.scale, labelled=options.labelled, info=ring_info(options)
        )


class Grid25(GaussianMixture):
    """25 Gaussians on a 5x5 grid: the hard one (published best: 24.8 modes); labels are row-major."""

    COORDS = (-4.0, -2.0, 0.0, 2.0, 4.0)
    PROTOCOL_STD = 0.05

    def __init__(self, options: GridOptions | None = None, *, split: str = "train") -> None:
        options = options if options is not None else GridOptions()
        check_split(split)
        centres = torch.tensor([(x, y) for x in self.COORDS for y in self.COORDS], dtype=torch.float64)
        super().__init__(
            centres, self.PROTOCOL_STD, scale=options.scale, labelled=options.labelled, info=grid_info(options)
        )
