"""Options of the DCGAN generator and discriminator, and the image sizes they can take.

Torch-free on purpose: recipes are validated and plugins listed without importing torch.
"""

from __future__ import annotations

from typing import Literal

from ganzoo.plugin import SUPPORTED_SIZES, check_image_size, option, options_class, supported_size

__all__ = ["SUPPORTED_SIZES", "DCGANDiscriminatorOptions", "DCGANGeneratorOptions", "check_image_size",
           "supported_size"]


@options_class
class DCGANGeneratorOptions:
    """Transposed convolutions with batch norm and ReLU, tanh out (Radford et al. 2016)."""

    latent_dim: int = option(100, help="size of the noise vector z", min=1, max=16_384)
    width: int = option(
        64, help="channels of the last hidden layer; each layer towards z doubles them", min=1, max=256
    )
    embedding_dim: int = option(
        32, help="size of the learned class embedding concatenated to z (conditional models only)", min=1,
        max=16_384,
    )
    categorical: int = option(
        0, min=0, max=16_384, help="values of a uniform categorical part of the prior, given to the net one-hot "
        "beside the noise (0: none); z is latent_dim + categorical wide. Lets G keep disconnected modes (digit "
        "classes) apart instead of drawing half-formed shapes between them"
    )


@options_class
class DCGANDiscriminatorOptions:
    """Strided convolutions with batch norm and LeakyReLU(0.2), one logit out."""

    width: int = option(64, help="channels of the first layer; each later layer doubles them", min=1, max=256)
    spectral_norm: bool = option(
        False, help="spectrally normalise every layer and drop batch norm (SN-GAN); suits WGAN-GP too"
    )
    batch_norm: bool = option(
        True, help="batch norm in the hidden layers (spectral_norm drops it); false without spectral_norm is "
        "WGAN-GP's critic: no normalisation, so the penalty sees each sample alone at full capacity"
    )
    minibatch_std: int = option(
        0, min=0, help="group size of a minibatch standard deviation channel before the last layer (Karras et "
        "al. 2018; 4 is theirs): lets D see a collapsed batch; 0 = off"
    )
    # Default chosen by measurement (cdcgan-digits, 600 steps, seed 0): with label channels the samples of
    # one class vary as much as real ones (mean per-pixel std 0.22 vs 0.26 real); with the projection head
    # G collapsed to one sample per class (0.01, and 0.01 after 1,500 steps).
    conditioning: Literal["projection", "channels"] = option(
        "channels",
        help="how a conditional D sees the class: one-hot label maps as extra input channels, or an inner "
        "product of a class embedding with its features (projection discriminator)",
    )
