"""Synthetic shapes: one white circle, square or triangle on black per image, drawn fresh for every batch.

An endless source (``sample(n, generator)``), so there is nothing to download or store, and the "test"
split is simply more fresh draws. Edges are anti-aliased (pixel coverage from the signed distance to the
shape's outline), so a generator can match them exactly. Pixels are in [-1, 1].
"""

from __future__ import annotations

import math

import torch

from ganzoo_plugin_example.options import ShapesOptions, shapes_info

SHAPES = ("circle", "square", "triangle")


class Shapes:
    def __init__(self, options: ShapesOptions | None = None, *, split: str = "train") -> None:
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', not {split!r}")
        self.options = options if options is not None else ShapesOptions()
        self.info = shapes_info(self.options)

    def sample(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """n images [n, 1, S, S] float32 in [-1, 1] and their shape indices int64 (None if unlabelled)."""
        device = generator.device if generator is not None else torch.device("cpu")
        size = self.options.image_size
        kinds = torch.randint(0, len(SHAPES), (n,), generator=generator, device=device)
        u = torch.rand(n, 3, generator=generator, device=device)
        radius = size * (0.2 + 0.15 * u[:, 0])  # 0.2 to 0.35 of the side: never touches the border
        cx = radius + (size - 2 * radius) * u[:, 1]
        cy = radius + (size - 2 * radius) * u[:, 2]
        pixel = torch.arange(size, device=device, dtype=torch.float32) + 0.5
        dx = pixel.view(1, 1, size) - cx.view(n, 1, 1)
        dy = pixel.view(1, size, 1) - cy.view(n, 1, 1)
        r = radius.view(n, 1, 1)
        circle = r - torch.sqrt(dx * dx + dy * dy)
        square = 0.8 * r - torch.maximum(dx.abs(), dy.abs())
        # equilateral triangle pointing up (y grows downwards) with circumradius r: inradius r/2 minus the
        # largest projection on the three outward edge normals
        s = math.sqrt(3.0) / 2.0
        triangle = 0.5 * r - torch.maximum(dy, torch.maximum(s * dx - 0.5 * dy, -s * dx - 0.5 * dy))
        kind = kinds.view(n, 1, 1)
        inside = torch.where(kind == 0, circle, torch.where(kind == 1, square, triangle))
        coverage = (inside + 0.5).clamp(0.0, 1.0)  # signed distance in pixels -> share of the pixel covered
        images = (2.0 * coverage - 1.0).unsqueeze(1)
        return images, (kinds if self.options.labelled else None)
