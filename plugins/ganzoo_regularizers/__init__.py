"""The built-in regularisers: penalties on D's input gradient, weight clipping and, on G's side, mode
seeking, registered exactly as a third-party plugin registers its own.

A recipe composes them as a list, each with a weight and, where the cost matters, lazy application::

    [[regularizer]]
    name = "r1"
    weight = 10.0   # gamma
    every = 16      # applied every 16 critic steps, scaled by 16 (StyleGAN2)

Torch-free: ``ganzoo list`` and ``ganzoo validate`` import this module to learn names and options.
"""

from __future__ import annotations

from ganzoo.plugin import hookimpl, NoOptions, RegisterRegularizers
from ganzoo_regularizers.options import ClipOptions, DraganOptions, GradientPenaltyOptions


@hookimpl
def register_regularizers(register: RegisterRegularizers) -> None:
    register(
        "gradient-penalty",
        "ganzoo_regularizers.penalties:GradientPenalty",
        description="WGAN-GP: (||grad D(x_hat)|| - 1)^2 at random points between reals and fakes (one-sided option).",
        options=GradientPenaltyOptions,
    )
    register(
        "r1",
        "ganzoo_regularizers.penalties:R1",
        description="R1 (Mescheder et al. 2018): ||grad D(x)||^2 / 2 on reals; weight = gamma.",
        options=NoOptions,
    )
    register(
        "r2",
        "ganzoo_regularizers.penalties:R2",
        description="R2 (Mescheder et al. 2018): ||grad D(G(z))||^2 / 2 on fakes; weight = gamma.",
        options=NoOptions,
    )
    register(
        "dragan",
        "ganzoo_regularizers.penalties:Dragan",
        description="DRAGAN (Kodali et al. 2017): (||grad D(x + noise)|| - 1)^2 around the real samples.",
        options=DraganOptions,
    )
    register(
        "mode-seeking",
        "ganzoo_regularizers.diversity:ModeSeeking",
        description="Mode seeking (Mao et al. 2019, MSGAN): 1 / (mean |G(z1) - G(z2)| / mean |z1 - z2|) on G's "
        "loss, over pairs of one class: pays G for drawing different noises apart; weight = lambda.",
        options=NoOptions,
    )
    register(
        "clip",
        "ganzoo_regularizers.clip:WeightClip",
        description="WGAN weight clipping: D's weights clamped to [-bound, bound] after each critic step.",
        options=ClipOptions,
    )
