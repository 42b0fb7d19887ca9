"""The options of the built-in metrics, torch-free: ``ganzoo list`` and recipe validation read them
without building anything. In ``ganzoo eval`` they are set with ``--set METRIC.OPTION=VALUE``."""

from __future__ import annotations

from typing import Any

from ganzoo.options import option, options_class

INCEPTION_ENV = "GANZOO_INCEPTION_WEIGHTS"


@options_class
class ModeCoverageOptions:
    """The mode-collapse protocol of Unrolled GAN / VEEGAN / PacGAN / GDPP (see DESIGN.md)."""

    threshold: float = option(
        3.0, min=0.0, exclusive_min=True, help="a sample is high quality within this many std of its nearest mode"
    )


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


@options_class
class ClassCoverageOptions(ClassifierOptions):
    """Class coverage of an unconditional generator, judged by the cached classifier."""

    min_share: float = option(
        0.1, min=0.0, max=1.0,
        help="a class is covered when it gets at least this fraction of its uniform share (n / classes) of samples",
    )


@options_class
class SupportOptions(ClassifierOptions):
    """Precision/recall and density/coverage in the cached classifier's features."""

    k: int = option(5, min=1, help="nearest neighbours that set each ball's radius (the papers use 5)")


@options_class
class ParzenOptions:
    """Parzen-window log-likelihood as in Goodfellow et al. (2014), after Breuleux et al. (2011)."""

    sigmas: tuple[float, ...] = option(
        (), min=0.0, exclusive_min=True,
        help="the grid of window widths searched on the validation points; empty = 30 log-spaced from 1e-3 to 1 "
        "(containing the paper's 0.1..1)",
    )
    validation_points: int = option(
        1000, min=1, help="real points that choose sigma (held out from the training split)"
    )
    test_points: int = option(10000, min=1, help="at most this many test-split points are scored")
    batch_size: int = option(100, min=1, help="test points scored at once (memory: batch x samples x dim)")


@options_class
class InceptionOptions:
    """FID, Inception Score and KID in the feature space of torchvision's Inception v3, with LOCAL weights."""

    weights: str = option(
        "", help=f"a torchvision inception_v3 state dict (.pth) on local disk; empty = ${INCEPTION_ENV}; "
        "ganzoo never downloads it"
    )
    image_size: int = option(299, min=16, help="images are resized to this side before the network")
    batch_size: int = option(50, min=1, help="images through the network at once")
    splits: int = option(10, min=1, help="the Inception Score's mean and std are taken over this many splits")
    kid_subsets: int = option(100, min=1, help="KID's mean and std over this many random subsets")
    kid_subset_size: int = option(1000, min=2, help="samples per KID subset (capped by the samples available)")


def check_stacked_data(options: Any, context: Any) -> None:
    """At recipe validation: ``stacked-modes`` judges stacked-digits data only (torch-free, for ``validate``)."""
    data = context.components.get("data")
    if data is not None and data.name != "stacked-digits":
        raise ValueError(f"stacked-modes counts the 1000 modes of 'stacked-digits' data; this recipe's data is "
                         f"{data.name!r} (allowed: data.name = 'stacked-digits')")
