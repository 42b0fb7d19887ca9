"""Options of the built-in losses, kept torch-free so that recipes validate without importing torch."""

from __future__ import annotations

from typing import Literal

from ganzoo.options import option, options_class


@options_class
class WassersteinOptions:
    """How the critic is kept (roughly) 1-Lipschitz, which the Wasserstein dual form requires."""

    lipschitz: Literal["clip", "gradient-penalty"] = option(
        "clip", help="'clip' clamps critic weights after each step (WGAN); 'gradient-penalty' adds WGAN-GP's term"
    )
    clip: float = option(
        0.01, help="weights are clamped to [-clip, clip] (lipschitz = 'clip')", min=0.0, exclusive_min=True
    )
    gp_weight: float = option(10.0, help="lambda of the gradient penalty (lipschitz = 'gradient-penalty')", min=0.0)


@options_class
class LeastSquaresOptions:
    """LSGAN's targets: D pushes fakes to ``fake_target`` (a) and reals to ``real_target`` (b); G pushes its
    fakes to ``generator_target`` (c). The defaults 0/1/1 are the paper's "0-1 coding"; -1/1/0 is its other
    setting (b - c = 1, b - a = 2, which minimises the Pearson chi-square divergence)."""

    fake_target: float = option(0.0, help="a: the score D wants on generated samples")
    real_target: float = option(1.0, help="b: the score D wants on real samples")
    generator_target: float = option(1.0, help="c: the score G wants D to give its samples")
