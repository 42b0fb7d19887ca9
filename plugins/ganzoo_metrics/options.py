"""The options of the built-in metrics, torch-free: ``ganzoo list`` and recipe validation read them
without building anything. In ``ganzoo eval`` they are set with ``--set METRIC.OPTION=VALUE``."""

from __future__ import annotations

from typing import Any

from ganzoo.plugin import ClassifierOptions, option, options_class

INCEPTION_ENV = "GANZOO_INCEPTION_WEIGHTS"
__all__ = ["INCEPTION_ENV", "ClassCoverageOptions", "ClassifierOptions", "InceptionOptions", "ModeCoverageOptions",
           "ParzenOptions", "SupportOptions", "check_stacked_data"]


@options_class
class ModeCoverageOptions:
    """The mode-collapse protocol of Unrolled GAN / VEEGAN / PacGAN / GDPP (see docs/design.md)."""

    threshold: float = option(
        3.0, min=0.0, exclusive_min=True, help="a sample is high quality within this many std of its nearest mode"
    )


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
class FidelityOptions:
    """FID, KID, Inception Score and precision/recall as torch-fidelity computes them (the ``fid`` extra),
    in the feature space of the standard Inception v3 (pt_inception-2015-12-05) read from LOCAL disk."""

    weights: str = option(
        "", help=f"torch-fidelity's inception-v3-compat weights (pt_inception-2015-12-05, .pth) on local disk; "
        f"empty = ${INCEPTION_ENV}; ganzoo never downloads them (ganzoo eval --inception-weights FILE)"
    )
    real: str = option(
        "train", help="the real images: 'train' or 'test' (that split of the run's dataset), or a folder of "
        "png/jpg images"
    )
    real_n: int = option(
        0, min=0, help="real images drawn from the split (seeded); 0 = the whole split"
    )
    batch_size: int = option(64, min=1, help="images through the network at once")
    isc_splits: int = option(10, min=1, help="isc: the Inception Score's mean and std over this many splits")
    kid_subsets: int = option(100, min=1, help="kid: mean and std over this many random subsets")
    kid_subset_size: int = option(1000, min=2, help="kid: samples per subset (must not exceed either side's count)")
    prc_neighborhood: int = option(3, min=1, help="prc: nearest neighbours that set each manifold ball's radius")


def check_stacked_data(options: Any, context: Any) -> None:
    """At recipe validation: ``stacked-modes`` judges stacked-digits data only (torch-free, for ``validate``)."""
    data = context.components.get("data")
    if data is not None and data.name != "stacked-digits":
        raise ValueError(f"stacked-modes counts the 1000 modes of 'stacked-digits' data; this recipe's data is "
                         f"{data.name!r} (allowed: data.name = 'stacked-digits')")
