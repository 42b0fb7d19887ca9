"""The 8x8 handwritten digits that ship inside scikit-learn: a real labelled image set that needs no
download, small enough (1,797 images) to train a conditional DCGAN on a laptop CPU in minutes.

The split is fixed: stratified, 20% test, seed 0, giving 1,437 training and 360 test images (every digit in
both in its overall proportion). It never depends on the run's seed, so a classifier-based metric computed
on the test split means the same thing across runs and releases.
"""

from __future__ import annotations

import torch

from ganzoo_datasets.common import check_split, resize, to_model_range
from ganzoo_datasets.options import DigitsOptions, digits_info

TEST_FRACTION = 0.2
SPLIT_SEED = 0
MAX_PIXEL = 16.0  # sklearn's digits count ink in 4x4 blocks of a 32x32 bitmap: values 0..16


class DigitsDataset:
    """Whole split in memory (``tensors()``), so the trainer can keep it on the device."""

    classes = tuple(str(d) for d in range(10))

    def __init__(self, options: DigitsOptions | None = None, *, split: str = "train") -> None:
        self.options = options if options is not None else DigitsOptions()
        self.split = check_split(split)
        self.info = digits_info(self.options)
        self._x, self._y = _load(self.split, self.options.image_size)
        if self.split == "train" and self.options.limit:
            self._x, self._y = self._x[: self.options.limit], self._y[: self.options.limit]

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Images [N, 1, S, S] float32 in [-1, 1] and labels [N] int64."""
        return self._x, self._y

    def __repr__(self) -> str:
        return f"DigitsDataset(split={self.split!r}, n={len(self._y)}, image_size={self.options.image_size})"


def _load(split: str, image_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    train, test = train_test_split(
        range(len(bunch.target)), test_size=TEST_FRACTION, stratify=bunch.target, random_state=SPLIT_SEED
    )
    index = torch.as_tensor(train if split == "train" else test)
    images = torch.as_tensor(bunch.images, dtype=torch.float32)[index].unsqueeze(1)
    labels = torch.as_tensor(bunch.target, dtype=torch.int64)[index]
    return resize(to_model_range(images, MAX_PIXEL), image_size), labels
