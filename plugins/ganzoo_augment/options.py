"""DiffAugment's options (torch-free)."""

from __future__ import annotations

from typing import Literal

from ganzoo.plugin import option, options_class


@options_class
class DiffAugmentOptions:
    policy: tuple[Literal["color", "translation", "cutout"], ...] = option(
        ("color", "translation", "cutout"), help="transforms, applied in this order (the paper's full policy)"
    )
    translation: float = option(0.125, min=0, max=0.5, help="largest shift, as a fraction of the image side")
    cutout: float = option(0.5, min=0, max=1, help="side of the cut-out square, as a fraction of the image side")
    probability: float = option(1.0, min=0, max=1, help="chance that a sample is transformed at all")
