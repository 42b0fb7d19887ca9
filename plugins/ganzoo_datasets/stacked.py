"""Stacked digits: three digits drawn independently, one per colour channel, so 1000 modes (000 to 999).

This is Stacked MNIST (Metz et al. 2017; the mode-collapse test of VEEGAN, PacGAN and R3GAN) built from
scikit-learn's digits instead of MNIST, so it runs offline. A generator that drops modes drops digit
combinations, which a per-channel digit classifier counts (the ``stacked-modes`` metric). The set is an
endless source: every batch draws fresh triples from the digits split (1,437^3 combinations for training),
from the run's own seeded generator, so a resumed run sees the same batches.
"""

from __future__ import annotations

import torch

from ganzoo_datasets.common import check_split
from ganzoo_datasets.digits import DigitsDataset
from ganzoo_datasets.options import DigitsOptions, StackedDigitsOptions, stacked_digits_info

CHANNELS = 3
MODES = 10**CHANNELS


class StackedDigits:
    """``sample(n, generator)`` -> images [n, 3, S, S] in [-1, 1], each channel a digit of the split; no labels
    are given to the trainer (the test is whether G finds the modes unaided): :meth:`sample_modes` has them."""

    def __init__(self, options: StackedDigitsOptions | None = None, *, split: str = "train") -> None:
        self.options = options if options is not None else StackedDigitsOptions()
        self.split = check_split(split)
        self.info = stacked_digits_info(self.options)
        self._digits, self._labels = DigitsDataset(DigitsOptions(image_size=self.options.image_size),
                                                   split=split).tensors()

    def sample_modes(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` stacked images and their modes (100 x red digit + 10 x green + blue)."""
        index = torch.randint(len(self._digits), (n, CHANNELS), generator=generator)
        images = self._digits[index.flatten()].reshape(n, CHANNELS, *self._digits.shape[2:])
        digits = self._labels[index]
        return images, digits[:, 0] * 100 + digits[:, 1] * 10 + digits[:, 2]

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, None]:
        return self.sample_modes(n, generator)[0], None

    def __repr__(self) -> str:
        return f"StackedDigits(split={self.split!r}, image_size={self.options.image_size})"
