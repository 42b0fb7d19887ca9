"""Options of the built-in losses, kept torch-free so that recipes validate without importing torch."""

from __future__ import annotations

from typing import Any, Literal

from ganzoo.plugin import option, options_class


@options_class
class WassersteinOptions:
    """The Wasserstein objective alone: the critic's Lipschitz constraint is a regulariser of the recipe."""

    __retired__ = {  # noqa: RUF012 - a class-level table, read by ganzoo.options.parse_options
        name: 'the critic\'s constraint is a regulariser now: write [[regularizer]] name = "clip" (bound = 0.01) '
              'for WGAN, or [[regularizer]] name = "gradient-penalty" weight = 10.0 for WGAN-GP'
        for name in ("lipschitz", "clip", "gp_weight")
    }


@options_class
class LeastSquaresOptions:
    """LSGAN's targets: D pushes fakes to ``fake_target`` (a) and reals to ``real_target`` (b); G pushes its
    fakes to ``generator_target`` (c). The defaults 0/1/1 are the paper's "0-1 coding"; -1/1/0 is its other
    setting (b - c = 1, b - a = 2, which minimises the Pearson chi-square divergence)."""

    fake_target: float = option(0.0, help="a: the score D wants on generated samples")
    real_target: float = option(1.0, help="b: the score D wants on real samples")
    generator_target: float = option(1.0, help="c: the score G wants D to give its samples")


def check_pairing(options: Any, context: Any) -> None:
    """rpgan pairs sample i of the real batch with sample i of the fake one: a discriminator that judges
    several samples as one (PacGAN's ``pack``) gives one logit per pack, not per sample."""
    discriminator = context.components.get("discriminator")
    pack = getattr(getattr(discriminator, "options", None), "pack", 1)
    if pack != 1:
        raise ValueError(f"rpgan pairs each real with one fake, but discriminator {discriminator.name!r} packs "
                         f"{pack} samples per logit (discriminator.pack = {pack}); allowed: pack = 1")
