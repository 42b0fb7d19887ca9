"""ACGAN (Odena, Olah & Shlens 2017): a discriminator with a class head beside the real/fake logit.

G is any conditional generator (G(z, c)); D is not told the class: it predicts it. D's loss is the
adversarial one plus the class cross-entropy on reals and fakes, G's the adversarial one plus the class
cross-entropy on its fakes, so G learns to draw samples D recognises as their class. The loss needs D's
``class_logits`` output: validation refuses it with a D that gives none.

Torch-free: ``ganzoo list`` and ``ganzoo validate`` import this module.
"""

from __future__ import annotations

from ganzoo.plugin import check_image_size, hookimpl, RegisterDiscriminators, RegisterLosses
from ganzoo_acgan.options import ACGANDiscriminatorOptions, ACGANLossOptions, class_head


@hookimpl
def register_discriminators(register: RegisterDiscriminators) -> None:
    register(
        "acgan",
        "ganzoo_acgan.models:ACGANDiscriminator",
        description="ACGAN discriminator: DCGAN body, a real/fake logit and a class head (class_logits); "
                    "needs conditional = true for its class head",
        options=ACGANDiscriminatorOptions,
        conditional=True,
        data_kinds=("image",),
        check=check_image_size,
        provides=class_head,
    )


@hookimpl
def register_losses(register: RegisterLosses) -> None:
    register(
        "acgan",
        "ganzoo_acgan.loss:ACGANLoss",
        description="ACGAN: non-saturating loss plus the class cross-entropy (reals and fakes for D, fakes for G).",
        options=ACGANLossOptions,
        needs={"discriminator": ("class_logits",)},
    )
    register(
        "tac",
        "ganzoo_acgan.loss:TwinACGANLoss",
        description="TAC-GAN: the acgan loss plus a twin class head trained on fakes, which G fights (needs an "
                    "acgan discriminator with twin = true).",
        options=ACGANLossOptions,
        needs={"discriminator": ("class_logits", "twin_logits")},
    )
