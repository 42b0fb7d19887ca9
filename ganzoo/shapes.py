"""The image sizes the convolutional networks of :mod:`ganzoo.layers` take, checked without torch.

Recipes are validated before anything is built (and before torch is imported): a plugin registering a
network built from those layers passes :func:`check_image_size` as its ``check``.
"""

from __future__ import annotations

from typing import Any

from ganzoo.contracts import DataInfo

# The networks grow from a 4x4 (or, for 28, a 7x7) map by doubling its side, so they take these sizes.
SUPPORTED_SIZES = (8, 16, 28, 32, 64, 128)


def supported_size(shape: tuple[int, ...]) -> bool:
    """Whether a sample shape (C, H, W) is a square image of a size the networks can take."""
    return len(shape) == 3 and shape[1] == shape[2] and shape[1] in SUPPORTED_SIZES


def check_image_size(options: Any, data: DataInfo) -> None:
    """Reject data the networks cannot take, at recipe validation, before anything is built."""
    if not supported_size(data.shape):
        sizes = ", ".join(map(str, SUPPORTED_SIZES))
        got = "x".join(map(str, data.shape[1:])) if len(data.shape) == 3 else f"of shape {list(data.shape)}"
        raise ValueError(f"dcgan supports square images of sizes {sizes}; the data is {got}")
