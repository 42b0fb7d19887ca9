"""ACGAN's discriminator: the core's DCGAN body with a class head beside the real/fake logit.

The body and the real/fake head are the core's ``ConvDiscriminator`` (built unconditional, so they never read
the label); the class head is a linear map of the flattened last feature map, sharing everything else
(``HeadedDiscriminator``, which InfoGAN's Q head uses too).
"""

from __future__ import annotations

from ganzoo.plugin import HeadedDiscriminator
from ganzoo_acgan.options import ACGANDiscriminatorOptions


class ACGANDiscriminator(HeadedDiscriminator):
    def __init__(self, options: ACGANDiscriminatorOptions, *, shape: tuple[int, ...], num_classes: int = 0) -> None:
        heads = {"class_logits": num_classes} if num_classes else {}
        if num_classes and options.twin:
            heads["twin_logits"] = num_classes
        super().__init__(width=options.width, spectral_norm=options.spectral_norm, shape=shape, heads=heads,
                         minibatch_std=options.minibatch_std)
        self.num_classes = num_classes
