"""Options of the example's components and what they can take, torch-free so recipes validate fast."""

from __future__ import annotations

from typing import Any

from ganzoo.plugin import DataInfo, option, options_class

# The ResNets grow from (or shrink to) a 4x4 map by doubling its side, so they take these square sizes.
SUPPORTED_SIZES = (8, 16, 32, 64, 128)


@options_class
class ResNetGeneratorOptions:
    """z -> 4x4 map -> upsampling residual blocks (batch norm, ReLU) -> 3x3 conv -> tanh."""

    latent_dim: int = option(64, help="size of the noise vector z", min=1)
    width: int = option(64, help="channels of every residual block", min=1)


@options_class
class ResNetDiscriminatorOptions:
    """Downsampling residual blocks (ReLU, no batch norm) -> ReLU -> sum over space -> one logit."""

    width: int = option(64, help="channels of every residual block", min=1)
    spectral_norm: bool = option(True, help="spectrally normalise every layer (SN-GAN)")


@options_class
class ShapesOptions:
    """White shapes on black, anti-aliased, at random sizes and places; the class is the shape."""

    image_size: int = option(16, help="side of the square images", min=8, max=128)
    labelled: bool = option(True, help="give the shape (0 circle, 1 square, 2 triangle) as the class label")


def check_image_size(options: Any, data: DataInfo) -> None:
    """Reject data the networks cannot take, at recipe validation, before anything is built."""
    shape = data.shape
    if len(shape) != 3 or shape[1] != shape[2] or shape[1] not in SUPPORTED_SIZES:
        sizes = ", ".join(map(str, SUPPORTED_SIZES))
        raise ValueError(f"resnet takes square images of sizes {sizes}; the data has shape {list(shape)}")


def shapes_info(options: ShapesOptions) -> DataInfo:
    return DataInfo((1, options.image_size, options.image_size), 3 if options.labelled else 0)
