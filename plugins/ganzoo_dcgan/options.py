"""Options of the DCGAN generator and discriminator, and the image sizes they can take.

Torch-free on purpose: recipes are validated and plugins listed without importing torch.
"""

from __future__ import annotations

from typing import Any, Literal

from ganzoo.plugin import DataInfo, option, options_class

# The networks grow from a 4x4 (or, for 28, a 7x7) map by doubling its side, so they take these sizes.
SUPPORTED_SIZES = (8, 16, 28, 32, 64, 128)


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


@options_class
class DCGANDiscriminatorOptions:
    """Strided convolutions with batch norm and LeakyReLU(0.2), one logit out."""

    width: int = option(64, help="channels of the first layer; each later layer doubles them", min=1, max=256)
    spectral_norm: bool = option(
        False, help="spectrally normalise every layer and drop batch norm (SN-GAN); suits WGAN-GP too"
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


def supported_size(shape: tuple[int, ...]) -> bool:
    """Whether a sample shape (C, H, W) is a square image of a size the networks can take."""
    return len(shape) == 3 and shape[1] == shape[2] and shape[1] in SUPPORTED_SIZES


def check_image_size(options: Any, data: DataInfo) -> None:
    """Reject data the networks cannot take, at recipe validation, before anything is built."""
    if not supported_size(data.shape):
        sizes = ", ".join(map(str, SUPPORTED_SIZES))
        got = "x".join(map(str, data.shape[1:])) if len(data.shape) == 3 else f"of shape {list(data.shape)}"
        raise ValueError(f"dcgan supports square images of sizes {sizes}; the data is {got}")
