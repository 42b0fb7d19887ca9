"""Small helpers every built-in dataset shares: the split check and the mapping of pixels into [-1, 1]."""

from __future__ import annotations

import torch
import torch.nn.functional as F

SPLITS = ("train", "test")


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    return split


def to_model_range(images: torch.Tensor, max_value: float) -> torch.Tensor:
    """Pixels in [0, max_value] (any dtype) as float32 in [-1, 1], the range of a tanh generator."""
    return (images.float() * (2.0 / max_value) - 1.0).clamp_(-1.0, 1.0)


def resize(images: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinear resize of an [N, C, H, W] float batch to size x size, antialiased so that shrinking averages
    pixels instead of skipping them (aliasing would hand the GAN artefacts to copy). A no-op at the same size.
    Processed in chunks so upsampling a large set never holds two float copies at the output size at once."""
    if images.shape[-2:] == (size, size):
        return images
    chunks = [
        F.interpolate(chunk, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
        for chunk in images.split(4096)
    ]
    return torch.cat(chunks).clamp_(-1.0, 1.0)
