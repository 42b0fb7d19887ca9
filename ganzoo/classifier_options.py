"""The options of the real-data classifier that judges generated images (:mod:`ganzoo.evaluation.classifier`).

Torch-free, apart from the classifier itself: metric plugins name it as their options class (or extend it)
at registration, and registering must not import torch.
"""

from __future__ import annotations

from ganzoo.options import option, options_class


@options_class
class ClassifierOptions:
    """The small classifier that ganzoo trains once per dataset on the real training split, then caches.

    Its options are part of the cache key: metrics given the same options share one classifier.
    """

    epochs: int = option(30, min=1, help="passes over the training split (capped by max_steps)")
    max_steps: int = option(3000, min=1, help="at most this many optimiser steps, for the large sets")
    batch_size: int = option(128, min=1, help="training batch size")
    width: int = option(16, min=2, help="channels of the first convolution (doubled in the second block)")
    features: int = option(
        32, min=2, help="size of the feature layer the Fréchet distance is measured in (keep the test split "
        "at 10 or more images per feature: digits has 360)"
    )
    lr: float = option(3e-3, min=0.0, exclusive_min=True, help="Adam learning rate")
    augment: bool = option(True, help="random shifts of up to 1/16 of the image side while training")
    seed: int = option(0, min=0, help="seeds the classifier's initialisation and batches")
