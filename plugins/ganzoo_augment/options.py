"""DiffAugment's options (torch-free)."""

from __future__ import annotations

from typing import Any, Literal

from ganzoo.plugin import option, options_class


@options_class
class DiffAugmentOptions:
    policy: tuple[Literal["color", "translation", "cutout"], ...] = option(
        ("color", "translation", "cutout"), help="transforms, applied in this order (the paper's full policy)"
    )
    translation: float = option(0.125, min=0, max=0.5, help="largest shift, as a fraction of the image side")
    cutout: float = option(0.5, min=0, max=1, help="side of the cut-out square, as a fraction of the image side")
    probability: float = option(1.0, min=0, max=1, help="chance that a sample is transformed at all (fixed; "
                                "with adaptive = true it is what ADA adapts, from 0)")
    adaptive: bool = option(
        False, help="ADA (Karras et al. 2020): adapt the probability from the sign of D's outputs on reals, "
        "starting at 0, so that augmentation grows only as D starts to overfit"
    )
    target: float = option(0.6, min=-1, max=1, help="ADA: the E[sign(D(x_real))] (in [-1, 1]) that p is adjusted towards")
    interval: int = option(4, min=1, max=1_000_000, help="ADA: critic steps between adjustments of p")
    speed: int = option(
        500_000, min=1, help="ADA: real images it takes p to move from 0 to 1 (p moves by batch x interval / speed "
        "per adjustment)"
    )


def check_adaptive(options: DiffAugmentOptions, context: Any) -> None:
    """ADA adapts the chance of augmenting: there must be transforms to apply, and no fixed chance besides."""
    if not options.adaptive:
        return
    if not options.policy:
        raise ValueError("adaptive = true adapts how often D's inputs are augmented, but policy is empty: no "
                         "augmentation to adapt; allowed: a policy of color, translation, cutout")
    if options.probability != 1.0:
        raise ValueError(f"probability = {options.probability} is a fixed chance, but adaptive = true starts p at "
                         "0 and adapts it; allowed: leave probability out with adaptive = true")
