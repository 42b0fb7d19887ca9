"""A user's own folder of images, through torchvision's ImageFolder and transforms.

It offers the ``torch.utils.data.Dataset`` protocol and decodes each image when asked, rather than
``tensors()``: a user's folder can be any size, and a DataLoader's workers then decode in parallel. The
folder's layout (classes from sub-folders, hidden folders skipped, a flat folder as unlabelled data) is
decided in :mod:`ganzoo_datasets.layout`, which ``info`` uses too.

The folder has no split of its own, so ``test_fraction`` of the images (chosen by a fixed seed over the
sorted file list, not by the run's seed) is held out as the "test" split for evaluation.
"""

from __future__ import annotations

import functools
import math
import os
import random
import warnings
from typing import Any

import torch
from PIL import Image
from torchvision import transforms
from torchvision.datasets import ImageFolder

from ganzoo.plugin import GanzooError
from ganzoo_datasets import layout
from ganzoo_datasets.common import check_split
from ganzoo_datasets.options import ImageFolderOptions, image_folder_info

SPLIT_SEED = 0


PIXELS_MAX = 100_000_000  # one image's pixels, checked from its header before it is decoded


class _LayoutImageFolder(ImageFolder):
    """ImageFolder with :mod:`layout`'s rules: hidden folders skipped, a flat root as one class, links
    followed but loops refused; each image checked for its size before decoding, and a file that does not
    decode named as the bad input (not taken for a failed write)."""

    def find_classes(self, directory: str | os.PathLike[str]) -> tuple[list[str], dict[str, int]]:
        classes = layout.class_folders(os.fspath(directory)) or [""]  # "" = the root itself
        return classes, {name: i for i, name in enumerate(classes)}

    @staticmethod
    def make_dataset(directory: str | os.PathLike[str], class_to_idx: dict[str, int], extensions: Any = None,
                     is_valid_file: Any = None, allow_empty: bool = False) -> list[tuple[str, int]]:
        root = os.fspath(directory)
        samples = []
        for name, index in sorted(class_to_idx.items(), key=lambda item: item[1]):
            folder = os.path.join(root, name) if name else root
            found = [(path, index) for path in layout.image_files(root, folder)]
            if not found and not allow_empty:
                raise FileNotFoundError(f"no image files in {os.path.abspath(folder)}")
            samples.extend(found)
        return samples

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        path = self.samples[index][0]
        try:
            return super().__getitem__(index)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
            reason = str(err).replace(os.linesep, " ") or type(err).__name__
            raise GanzooError(f"image-folder: {os.path.abspath(path)}: not a readable image ({reason}); "
                              "remove or replace it") from None


def _load_image(path: str) -> Image.Image:
    """The image as RGB, refused past :data:`PIXELS_MAX` pixels before any decoding (a decompression bomb:
    a few kilobytes of PNG can ask for gigabytes)."""
    with open(path, "rb") as handle, warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the bound below decides
        image = Image.open(handle)
        if image.width * image.height > PIXELS_MAX:
            raise GanzooError(f"image-folder: {os.path.abspath(path)}: {image.width}x{image.height} pixels; an "
                              f"image may have at most {PIXELS_MAX:,}: shrink or remove it")
        return image.convert("RGB")


class ImageFolderDataset(torch.utils.data.Dataset):
    """Yields ``x`` [C, S, S] in [-1, 1], or ``(x, class)`` when the folder has two or more class folders."""

    def __init__(self, options: ImageFolderOptions, *, split: str = "train") -> None:
        self.options = options
        self.split = check_split(split)
        self.info = image_folder_info(options)
        folder = _open(options)
        self.classes = tuple(folder.classes) if self.info.num_classes else ()
        self._folder = folder
        self._indices = _split_indices(len(folder.samples), options.test_fraction, split, options.root)

    def __len__(self) -> int:
        return len(self._indices)

    def __getitem__(self, index: int) -> torch.Tensor | tuple[torch.Tensor, int]:
        x, label = self._folder[self._indices[index]]
        return (x, label) if self.info.num_classes else x

    def __repr__(self) -> str:
        return f"ImageFolderDataset({self.options.root!r}, split={self.split!r}, n={len(self)})"


def _transform(options: ImageFolderOptions) -> transforms.Compose:
    """Shorter side to image_size, then the central square: keeps aspect ratio, drops the margins."""
    # ImageFolder's loader already gives RGB (palette, alpha and grayscale files included)
    colour = [transforms.Grayscale(num_output_channels=1)] if options.channels == 1 else []
    return transforms.Compose(
        [
            *colour,
            transforms.Resize(options.image_size, antialias=True),
            transforms.CenterCrop(options.image_size),
            transforms.ToTensor(),
            transforms.Normalize([0.5] * options.channels, [0.5] * options.channels),  # [0, 1] -> [-1, 1]
        ]
    )


def _open(options: ImageFolderOptions) -> ImageFolder:
    root = options.root
    try:
        return _LayoutImageFolder(
            root, transform=_transform(options), is_valid_file=functools.partial(layout.is_visible_image, root),
            loader=_load_image,
        )
    except FileNotFoundError as err:  # ImageFolder: a class folder (or the flat root) without any image
        where = os.path.abspath(root)
        problem = str(err).replace("\n", " ") if layout.class_folders(root) else f"no image files in {where}"
        raise GanzooError(
            f"image-folder: {problem}; supported extensions: {', '.join(layout.IMAGE_EXTENSIONS)}"
        ) from err


def _split_indices(n: int, test_fraction: float, split: str, root: str) -> list[int]:
    order = list(range(n))
    random.Random(SPLIT_SEED).shuffle(order)
    n_test = min(n - 1, math.ceil(test_fraction * n)) if test_fraction > 0 else 0
    chosen = sorted(order[:n_test] if split == "test" else order[n_test:])
    if not chosen:
        raise GanzooError(
            f"image-folder: the {split} split of {os.path.abspath(root)} is empty ({n} images, "
            f"test_fraction = {test_fraction}); add images or raise data.test_fraction"
        )
    return chosen
