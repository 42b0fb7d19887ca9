"""Options of R3GAN's generator and discriminator, and the images they take (torch-free)."""

from __future__ import annotations

from typing import Any

from ganzoo.plugin import DataInfo, option, options_class

#: the networks grow from (G) or shrink to (D) a 4x4 map by factors of two
SUPPORTED_SIZES = (8, 16, 32, 64)
SUPPORTED_CHANNELS = (1, 3)


@options_class
class R3GANGeneratorOptions:
    """A learned 4x4 start, then per resolution an upsampling and ``blocks`` residual blocks."""

    latent_dim: int = option(64, min=1, max=16_384, help="size of the noise vector z")
    width: int = option(64, min=1, max=1024, help="channels of the residual stream at 4x4, halved at each doubling of the resolution")
    min_width: int = option(16, min=1, max=1024, help="the halving stops at this many channels")
    blocks: int = option(1, min=1, max=16, help="residual blocks per resolution")
    expansion: int = option(2, min=1, max=8, help="inverted bottleneck: the block's inner width is width x this")
    group_size: int = option(16, min=1, max=1024, help="channels per group of the block's grouped 3x3 convolution")
    embedding_dim: int = option(32, min=1, max=16_384, help="size of the class embedding joined to z (conditional)")
    categorical: int = option(
        0, min=0, max=16_384, help="values of a uniform categorical part of the prior, given to the net one-hot "
        "beside the noise (0: none; z is latent_dim + categorical wide), as the dcgan generator's"
    )


@options_class
class R3GANDiscriminatorOptions:
    """Per resolution ``blocks`` residual blocks and a downsampling, down to a learned 4x4 end, one logit."""

    width: int = option(64, min=1, max=1024, help="channels of the residual stream at 4x4, halved at each doubling of the resolution")
    min_width: int = option(16, min=1, max=1024, help="the halving stops at this many channels")
    blocks: int = option(1, min=1, max=16, help="residual blocks per resolution")
    expansion: int = option(2, min=1, max=8, help="inverted bottleneck: the block's inner width is width x this")
    group_size: int = option(16, min=1, max=1024, help="channels per group of the block's grouped 3x3 convolution")
    minibatch_std: int = option(
        0, min=0, max=1024, help="group size of a minibatch standard deviation channel at 4x4, before the end "
        "(Karras et al. 2018; not in R3GAN's baseline): lets D see a group of near copies; 0 = off"
    )


def check_shape(options: Any, data: DataInfo) -> None:
    """Square images of a size the networks can reach by doubling from 4x4, in 1 or 3 channels, and a grouped
    convolution whose groups divide the block's inner width: refused at validation, before anything is built."""
    shape = data.shape
    if len(shape) != 3 or shape[1] != shape[2] or shape[1] not in SUPPORTED_SIZES or shape[0] not in SUPPORTED_CHANNELS:
        sizes = ", ".join(map(str, SUPPORTED_SIZES))
        raise ValueError(f"r3gan takes square images of sizes {sizes} with 1 or 3 channels; the data is "
                         f"{'x'.join(map(str, shape))} (channels x height x width)")
    for width in stage_widths(options, shape[1]):
        inner = width * options.expansion
        if inner % options.group_size:
            raise ValueError(f"r3gan: group_size = {options.group_size} must divide every block's inner width "
                             f"(channels x expansion), which is {inner} at {width} channels; allowed: a divisor of {inner}")


def stage_widths(options: Any, size: int) -> list[int]:
    """Channels of each stage, from 4x4 up to ``size`` x ``size``: ``width`` halved per doubling, at least
    ``min_width`` (and at most ``width``)."""
    widths, side = [], 4
    while side <= size:
        widths.append(max(min(options.min_width, options.width), options.width * 4 // side))
        side *= 2
    return widths
