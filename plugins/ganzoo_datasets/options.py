"""What a recipe's ``[data]`` table may say for each built-in dataset, and what each dataset gives
(``info``), all without torch or loading a file: ``ganzoo validate`` pairs models with data from these alone.
"""

from __future__ import annotations

import os
from typing import Literal

from ganzoo.plugin import DataInfo, option, options_class
from ganzoo_datasets import layout

IMAGE_SIZE_RANGE = {"min": 4, "max": 1024}

#: images: the generator's [-1, 1] is shown to users as pixel intensities in [0, 1] (0 black, 1 white)
IMAGE_UNITS = {"data_scale": 0.5, "data_offset": 0.5}

# the files torchvision reads (its MNIST.resources and CIFAR10.train_list/test_list, less the checksums),
# repeated so that validation can check they are there without importing torch
MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
CIFAR10_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)


@options_class
class RingOptions:
    """The ring of 8 Gaussians (radius 1, std 0.01 in protocol units)."""

    labelled: bool = option(False, help="expose the mode index (0..7) as the class label")
    scale: float = option(
        0.8,
        help="model units per protocol unit; 0.8 keeps every mode inside tanh's (-1, 1)",
        min=1e-3,
        max=1e3,
    )


@options_class
class GridOptions:
    """The 5x5 grid of Gaussians (spacing 2, std 0.05 in protocol units)."""

    labelled: bool = option(False, help="expose the mode index (0..24, row-major) as the class label")
    scale: float = option(
        0.2,
        help="model units per protocol unit; 0.2 maps {-4..4} to {-0.8..0.8}, inside tanh's (-1, 1)",
        min=1e-3,
        max=1e3,
    )


@options_class
class DigitsOptions:
    """scikit-learn's bundled 8x8 digits, upsampled so image models built for 32x32 can take them."""

    image_size: int = option(32, help="side of the square images, resized from 8x8", **IMAGE_SIZE_RANGE)
    limit: int = option(
        0, min=0, help="keep only the first N training images (a small-data experiment); 0 = all 1,437. The "
        "test split is never cut"
    )


@options_class
class StackedDigitsOptions:
    """Three independent digits of scikit-learn's set, one per colour channel: 1000 modes (Stacked MNIST)."""

    image_size: int = option(16, help="side of the square images, each digit resized from 8x8", **IMAGE_SIZE_RANGE)


@options_class
class MnistOptions:
    """MNIST or Fashion-MNIST through torchvision; files are read from ``root`` and never fetched unasked."""

    root: str = option("data", help="folder that holds (or will hold) the torchvision dataset folder", local=True)
    download: bool = option(False, help="download the files if missing (needs internet)", local=True)
    image_size: int = option(
        28, help="side of the square images, resized from 28x28 when different", **IMAGE_SIZE_RANGE
    )


@options_class
class Cifar10Options:
    """CIFAR-10 through torchvision; files are read from ``root`` and never fetched unasked."""

    root: str = option("data", help="folder that holds (or will hold) cifar-10-batches-py", local=True)
    download: bool = option(False, help="download the files if missing (needs internet)", local=True)
    image_size: int = option(
        32, help="side of the square images, resized from 32x32 when different", **IMAGE_SIZE_RANGE
    )


@options_class
class ImageFolderOptions:
    """A folder of the user's images: one sub-folder per class, or images directly inside (unlabelled)."""

    root: str = option(help="the folder of images (or of one sub-folder of images per class)", local=True)
    image_size: int = option(
        64, help="images are resized (shorter side) and center-cropped to this square", **IMAGE_SIZE_RANGE
    )
    channels: Literal[1, 3] = option(3, help="1 converts to grayscale, 3 to RGB")
    test_fraction: float = option(
        0.1, help="share of the images held out, by a fixed seed, as the 'test' split (evaluation)", min=0.0, max=0.9
    )


def ring_info(options: RingOptions) -> DataInfo:
    """Points in model units are the protocol's times ``scale``: dividing by it gives back the unit circle."""
    return DataInfo((2,), 8 if options.labelled else 0, data_scale=1.0 / options.scale)


def grid_info(options: GridOptions) -> DataInfo:
    return DataInfo((2,), 25 if options.labelled else 0, data_scale=1.0 / options.scale)


def digits_info(options: DigitsOptions) -> DataInfo:
    return DataInfo((1, options.image_size, options.image_size), 10, **IMAGE_UNITS)


def stacked_digits_info(options: StackedDigitsOptions) -> DataInfo:
    """Unlabelled on purpose: G must find the 1000 modes without being told them."""
    return DataInfo((3, options.image_size, options.image_size), 0, **IMAGE_UNITS)


def mnist_info(options: MnistOptions) -> DataInfo:
    return DataInfo((1, options.image_size, options.image_size), 10, **IMAGE_UNITS)


def cifar10_info(options: Cifar10Options) -> DataInfo:
    return DataInfo((3, options.image_size, options.image_size), 10, **IMAGE_UNITS)


def _check_files(name: str, folder: str, files: tuple[str, ...], download: bool) -> None:
    if download:
        return  # fetched when the dataset is built
    missing = [f for f in files if not os.path.isfile(os.path.join(folder, f))]
    if missing:
        raise ValueError(
            f"{name}: {len(missing)} of {len(files)} dataset files missing in {os.path.abspath(folder)} (first: "
            f"{missing[0]}); copy them there, or set data.download = true on a machine with internet"
        )


def check_mnist_files(options: MnistOptions) -> None:
    _check_files("mnist", os.path.join(options.root, "MNIST", "raw"), MNIST_FILES, options.download)


def check_fashion_mnist_files(options: MnistOptions) -> None:
    _check_files("fashion-mnist", os.path.join(options.root, "FashionMNIST", "raw"), MNIST_FILES, options.download)


def check_cifar10_files(options: Cifar10Options) -> None:
    _check_files("cifar10", os.path.join(options.root, "cifar-10-batches-py"), CIFAR10_FILES, options.download)


def check_image_folder_files(options: ImageFolderOptions) -> None:
    """Each class folder (or the flat root) holds at least one image: stops at the first one found."""
    classes = layout.class_folders(options.root)
    folders = [os.path.join(options.root, c) for c in classes] if classes else [options.root]
    for folder in folders:
        if not layout.has_image(options.root, folder):
            raise ValueError(
                f"image-folder: no image files in {os.path.abspath(folder)}; "
                f"supported extensions: {', '.join(layout.IMAGE_EXTENSIONS)}"
            )


def image_folder_info(options: ImageFolderOptions) -> DataInfo:
    """Classes are counted from the sub-folder names alone (one ``os.scandir``), so validation stays cheap
    and still fails early on a missing folder or a conditional model paired with an unlabelled folder."""
    classes = layout.class_folders(options.root)
    shape = (options.channels, options.image_size, options.image_size)
    return DataInfo(shape, layout.num_classes(classes), **IMAGE_UNITS)
