"""DCGAN (Radford, Metz & Chintala 2016) for square images of 8 to 128 pixels, with any number of channels.

The networks are the core's convolutional layers (``ConvGenerator``, ``ConvDiscriminator``: the guidelines of
the paper, see :mod:`ganzoo.plugin`), which ACGAN's and InfoGAN's networks share; this module gives them the
``dcgan`` options a recipe sets.

Conditioning on a class c: G joins a learned class embedding to z. D either adds a projection term
<embed(c), sum-pooled features> to its logit (Miyato & Koyama 2018) or reads one-hot label maps as extra
input channels (the cGAN way, the default).
"""

from __future__ import annotations

from ganzoo.plugin import ConvDiscriminator, ConvGenerator
from ganzoo_dcgan.options import DCGANDiscriminatorOptions, DCGANGeneratorOptions


class DCGANGenerator(ConvGenerator):
    """z -> a base x base map (4x4, or 7x7 for 28-pixel images) -> doubled until the image size -> tanh."""

    def __init__(self, options: DCGANGeneratorOptions, *, shape: tuple[int, ...], num_classes: int = 0) -> None:
        super().__init__(shape=shape, latent_dim=options.latent_dim + options.categorical, width=options.width,
                         num_classes=num_classes, embedding_dim=options.embedding_dim, categorical=options.categorical)


class DCGANDiscriminator(ConvDiscriminator):
    """image -> halved until a base x base map (4x4, or 7x7 for 28-pixel images) -> one logit.

    With ``spectral_norm`` every layer is spectrally normalised and batch norm is dropped (as in SN-GAN):
    the two fight over the scale of the features, and batch norm makes D's output for one sample depend
    on the rest of the batch, which a gradient penalty per sample assumes it does not.
    """

    def __init__(
        self, options: DCGANDiscriminatorOptions, *, shape: tuple[int, ...], num_classes: int = 0
    ) -> None:
        super().__init__(shape=shape, width=options.width, num_classes=num_classes,
                         spectral_norm=options.spectral_norm, minibatch_std=options.minibatch_std,
                         conditioning=options.conditioning, batch_norm=options.batch_norm)
