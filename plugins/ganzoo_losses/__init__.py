"""The built-in GAN objectives, registered exactly as a third-party plugin would register its own.

This module must stay torch-free: ``ganzoo list`` and ``ganzoo validate`` import it to learn names and
options, and only building a loss imports the ``"module:attr"`` factory (and torch with it).
"""

from __future__ import annotations

from ganzoo.plugin import Needs, NoOptions, RegisterLosses, hookimpl
from ganzoo_losses.options import LeastSquaresOptions, WassersteinOptions, check_pairing


@hookimpl
def register_losses(register: RegisterLosses) -> None:
    register(
        "minimax",
        "ganzoo_losses.logistic:MinimaxLoss",
        description="Original GAN objective; G minimises the saturating log(1 - D(G(z))).",
        options=NoOptions,
    )
    register(
        "non-saturating",
        "ganzoo_losses.logistic:NonSaturatingLoss",
        description="Original GAN discriminator; G maximises log D(G(z)), which keeps early gradients alive.",
        options=NoOptions,
    )
    register(
        "wasserstein",
        "ganzoo_losses.wasserstein:WassersteinLoss",
        description="WGAN critic objective; add regularizer clip (WGAN) or gradient-penalty (WGAN-GP).",
        options=WassersteinOptions,
    )
    register(
        "hinge",
        "ganzoo_losses.hinge:HingeLoss",
        description="Hinge loss on raw critic scores (SAGAN / BigGAN style).",
        options=NoOptions,
    )
    register(
        "least-squares",
        "ganzoo_losses.least_squares:LeastSquaresLoss",
        description="LSGAN: squared distance of raw D scores to target values (default a=0, b=1, c=1).",
        options=LeastSquaresOptions,
    )
    register(
        "rpgan",
        "ganzoo_losses.relativistic:RelativisticPairingLoss",
        description="RpGAN (R3GAN's loss): softplus of real-minus-fake logits, each real paired with one fake.",
        options=NoOptions,
        check_recipe=check_pairing,
        needs=Needs(real_logits=True),
    )
