"""The built-in datasets, registered exactly as a third-party plugin would register its own.

This module must stay torch-free: ``ganzoo list`` and ``ganzoo validate`` import it, parse options and call
each dataset's ``info`` (shape and classes) without loading data; only the ``"module:attr"`` factories,
imported when a dataset is built, bring in torch, torchvision or scikit-learn.
"""

from __future__ import annotations

from ganzoo.plugin import hookimpl, RegisterDatasets
from ganzoo_datasets.options import (
    Cifar10Options,
    DigitsOptions,
    GridOptions,
    ImageFolderOptions,
    MnistOptions,
    RingOptions,
    StackedDigitsOptions,
    check_cifar10_files,
    check_fashion_mnist_files,
    check_image_folder_files,
    check_mnist_files,
    cifar10_info,
    digits_info,
    grid_info,
    image_folder_info,
    mnist_info,
    ring_info,
    stacked_digits_info,
)


@hookimpl
def register_datasets(register: RegisterDatasets) -> None:
    register(
        "ring8",
        "ganzoo_datasets.mixtures:Ring8",
        description="8 Gaussians on a circle (radius 1, std 0.01, scaled by 0.8): the mode-collapse benchmark.",
        options=RingOptions,
        info=ring_info,
    )
    register(
        "grid25",
        "ganzoo_datasets.mixtures:Grid25",
        description="25 Gaussians on {-4..4}^2 (spacing 2, std 0.05, scaled by 0.2): the hard mode-collapse test.",
        options=GridOptions,
        info=grid_info,
    )
    register(
        "digits",
        "ganzoo_datasets.digits:DigitsDataset",
        description="scikit-learn's 1,797 8x8 handwritten digits, 10 classes, resized; no download needed.",
        options=DigitsOptions,
        info=digits_info,
    )
    register(
        "stacked-digits",
        "ganzoo_datasets.stacked:StackedDigits",
        description="Stacked digits: three independent scikit-learn digits as RGB channels, 1000 modes (Stacked MNIST).",
        options=StackedDigitsOptions,
        info=stacked_digits_info,
    )
    register(
        "mnist",
        "ganzoo_datasets.torchvision_sets:mnist",
        description="MNIST handwritten digits (torchvision), 60k/10k 28x28 grayscale, 10 classes.",
        options=MnistOptions,
        info=mnist_info,
        check_data=check_mnist_files,
    )
    register(
        "fashion-mnist",
        "ganzoo_datasets.torchvision_sets:fashion_mnist",
        description="Fashion-MNIST clothing (torchvision), 60k/10k 28x28 grayscale, 10 classes.",
        options=MnistOptions,
        info=mnist_info,
        check_data=check_fashion_mnist_files,
    )
    register(
        "cifar10",
        "ganzoo_datasets.torchvision_sets:cifar10",
        description="CIFAR-10 (torchvision), 50k/10k 32x32 colour images, 10 classes.",
        options=Cifar10Options,
        info=cifar10_info,
        check_data=check_cifar10_files,
    )
    register(
        "image-folder",
        "ganzoo_datasets.folder:ImageFolderDataset",
        description="Your own images: one sub-folder per class (2 or more), or a flat unlabelled folder.",
        options=ImageFolderOptions,
        info=image_folder_info,
        check_data=check_image_folder_files,
    )
