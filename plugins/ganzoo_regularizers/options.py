"""Options of the built-in regularisers (torch-free, so recipes validate without importing torch)."""

from __future__ import annotations

from ganzoo.plugin import option, options_class


@options_class
class GradientPenaltyOptions:
    one_sided: bool = option(False, help="penalise only norms above 1: max(0, ||grad|| - 1)^2 (WGAN-GP's variant)")


@options_class
class DraganOptions:
    scale: float = option(0.5, min=0.0, exclusive_min=True,
                          help="perturbation: scale * std(x) * U[0, 1) noise added to each real element")


@options_class
class ClipOptions:
    bound: float = option(0.01, min=0.0, exclusive_min=True, help="weights are clamped to [-bound, bound]")
