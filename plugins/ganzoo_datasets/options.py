"""What a recipe's ``[data]`` table may say for each built-in dataset, and what each dataset gives
(``info``), all without torch or loading a file: ``ganzoo validate`` pairs models with data from these alone.
"""

from __future__ import annotations

from typing import Literal

from ganzoo.components import DataInfo
from ganzoo.options import option, options_class
from ganzoo_datasets import layout

IMAGE_SIZE_RANGE = {"min": 4, "max": 1024}


@options_class
class RingOptions:
    """The ring of 8 Gaussians (radius 1, std 0.01 in protocol units)."""

    labelled: bool = option(False, help="expose the mode index (0..7) as the class label")
    scale: float = option(
        0.8,
        help="model units per protocol unit; 0.8 keeps every mode inside tanh's (-1, 1)",
        min=0.0,
        exclusive_min=True,
    )


@options_class
class GridOptions:
    """The 5x5 grid of Gaussians (spacing 2, std 0.05 in protocol units)."""

    labelled: bool = option(False, help="expose the mode index (0..24, row-major) as the class label")
    scale: float = option(
        0.2,
        help="model units per protocol unit; 0.2 maps {-4..4} to {-0.8..0.8}, inside tanh's (-1, 1)",
        min=0.0,
        exclusive_min=True,
    )


@options_class
class DigitsOptions:
    """scikit-learn's bundled 8x8 digits, upsampled so image models built for 32x32 can take them."""

    image_size: int = option(32, help="side of the square images, resized from 8x8", **IMAGE_SIZE_RANGE)


@options_class
class MnistOptions:
    """MNIST or Fashion-MNIST through torchvision; files are read from ``root`` and never fetched unasked."""

    root: str = option("data", help="folder that holds (or will hold) the torchvision dataset folder")
    download: bool = option(False, help="download the files if missing (needs internet)")
    image_size: int = option(
        28, help="side of the square images, resized from 28x28 when different", **IMAGE_SIZE_RANGE
    )


@options_class
class Cifar10Options:
    """CIFAR-10 through torchvision; files are read from ``root`` and never fetched unasked."""

    root: str = option("data", help="folder that holds (or will hold) cifar-10-batches-py")
    download: bool = option(False, help="download the files if missing (needs internet)")
    image_size: int = option(
        32, help="side of the square images, resized from 32x32 when different", **IMAGE_SIZE_RANGE
    )


@options_class
class ImageFolderOptions:
    """A folder of the user's images: one sub-folder per class, or images directly inside (unlabelled)."""

    root: str = option(help="the folder of images (or of one sub-folder of images per class)")
    image_size: int = option(
        64, help="images are resized (shorter side) and center-cropped to this square", **IMAGE_SIZE_RANGE
    )
    channels: Literal[1, 3] = option(3, help="1 converts to grayscale, 3 to RGB")
    test_fraction: float = option(
        0.1, help="share of the images held out, by a fixed seed, as the 'test' split (evaluation)", min=0.0, max=0.9
    )


def ring_info(options: RingOptions) -> DataInfo:
    return DataInfo((2,), 8 if options.labelled else 0)


def grid_info(options: GridOptions) -> DataInfo:
    return DataInfo((2,), 25 if options.labelled else 0)


def digits_info(options: DigitsOptions) -> DataInfo:
    return DataInfo((1, options.image_size, options.image_size), 10)


def mnist_info(options: MnistOptions) -> DataInfo:
    return DataInfo((1, options.image_size, options.image_size), 10)


def cifar10_info(options: Cifar10Options) -> DataInfo:
    return DataInfo((3, options.image_size, options.image_size), 10)


def image_folder_info(options: ImageFolderOptions) -> DataInfo:
    """Classes are counted from the sub-folder names alone (one ``os.scandir``), so validation stays cheap
    and still fails early on a missing folder or a conditional model paired with an unlabelled folder."""
    classes = layout.class_folders(options.root)
    return DataInfo((options.channels, options.image_size, options.image_size), layout.num_classes(classes))
