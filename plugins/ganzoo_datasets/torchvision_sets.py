"""MNIST, Fashion-MNIST and CIFAR-10 through torchvision, loaded whole into memory.

torchvision finds, verifies and (when asked) downloads the files; we then take its decoded ``data`` and
``targets`` arrays directly instead of going through PIL one image at a time, which turns a minute of
per-item transforms into a fraction of a second, and hand the trainer ``tensors()`` it can keep on the device.

Nothing is downloaded unless the recipe says ``download = true``: a missing file is a one-line error that
names the exact folder torchvision reads and how to fill it.
"""

from __future__ import annotations

import os
from typing import Any

import attrs
import torch

from ganzoo.plugin import DataInfo, GanzooError
from ganzoo_datasets import idx
from ganzoo_datasets.common import check_split, resize, to_model_range
from ganzoo_datasets.options import Cifar10Options, MnistOptions, cifar10_info, mnist_info


@attrs.frozen
class _Source:
    """One torchvision dataset: its class name, where it keeps its files under root, which files."""

    name: str
    cls: str
    folder: str  # relative to root, exactly where torchvision reads
    files: str  # what to copy there, for the error message


MNIST = _Source("mnist", "MNIST", os.path.join("MNIST", "raw"), "the four *-idx?-ubyte files (gunzipped)")
FASHION_MNIST = _Source(
    "fashion-mnist", "FashionMNIST", os.path.join("FashionMNIST", "raw"), "the four *-idx?-ubyte files (gunzipped)"
)
CIFAR10 = _Source("cifar10", "CIFAR10", "cifar-10-batches-py", "the extracted batches of cifar-10-python.tar.gz")


class TensorImages:
    """A labelled image set held whole in memory: ``tensors()`` -> ([N, C, S, S] in [-1, 1], [N] int64)."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, *, info: DataInfo, classes: tuple[str, ...], name: str):
        self._x, self._y = x, y
        self.info = info
        self.classes = classes
        self.name = name

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self._x, self._y

    def __repr__(self) -> str:
        return f"TensorImages({self.name!r}, n={len(self._y)}, shape={list(self.info.shape)})"


def mnist(options: MnistOptions, *, split: str) -> TensorImages:
    return _build(MNIST, options, split, mnist_info(options))


def fashion_mnist(options: MnistOptions, *, split: str) -> TensorImages:
    return _build(FASHION_MNIST, options, split, mnist_info(options))


def cifar10(options: Cifar10Options, *, split: str) -> TensorImages:
    return _build(CIFAR10, options, split, cifar10_info(options))


def _build(source: _Source, options: Any, split: str, info: DataInfo) -> TensorImages:
    split = check_split(split)
    if source in (MNIST, FASHION_MNIST):  # the raw files at hand, checked before torchvision trusts them
        idx.check_pair(os.path.join(options.root, source.folder), "train" if split == "train" else "t10k", source.name)
    raw = _open(source, options, split)
    images = torch.as_tensor(raw.data)
    images = images.unsqueeze(1) if images.dim() == 3 else images.permute(0, 3, 1, 2)  # -> [N, C, H, W]
    x = resize(to_model_range(images, 255.0), options.image_size)
    y = torch.as_tensor(raw.targets, dtype=torch.int64)
    return TensorImages(x, y, info=info, classes=tuple(raw.classes), name=source.name)


def _open(source: _Source, options: Any, split: str) -> Any:
    import torchvision.datasets

    cls = getattr(torchvision.datasets, source.cls)
    try:
        return cls(options.root, train=split == "train", download=options.download)
    except (RuntimeError, OSError) as err:  # "Dataset not found", failed downloads (URLError is an OSError)
        raise GanzooError(_missing_message(source, options, err)) from err


def _missing_message(source: _Source, options: Any, err: Exception) -> str:
    folder = os.path.abspath(os.path.join(options.root, source.folder))
    if options.download:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return (
            f"{source.name}: could not download into {folder} ({reason}); "
            f"on a machine without internet, copy {source.files} there and set data.download = false"
        )
    return (
        f"{source.name}: dataset files missing or incomplete in {folder}; set data.download = true on a machine with "
        f"internet, or copy {source.files} there"
    )
