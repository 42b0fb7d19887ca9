"""The built-in metrics, registered exactly as a third-party plugin would register its own.

This module must stay torch-free (``ganzoo list``, ``ganzoo validate`` import it): factories are
``"module:attr"`` strings, imported when a metric is built. Each metric object offers
``compute(context) -> dict[str, float]`` and ``applies_to(context) -> bool`` (the default choice of
``ganzoo eval`` and of a recipe's ``[eval]`` table without ``metrics``); ``parzen`` has no
``applies_to``: it runs only when named.
"""

from __future__ import annotations

from ganzoo.plugin import hookimpl, RegisterMetrics
from ganzoo_metrics.options import (
    ClassCoverageOptions,
    ClassifierOptions,
    FidelityOptions,
    ModeCoverageOptions,
    ParzenOptions,
    SupportOptions,
    check_stacked_data,
)


@hookimpl
def register_metrics(register: RegisterMetrics) -> None:
    register(
        "mode-coverage",
        "ganzoo_metrics.modes:ModeCoverage",
        description="2-D mixtures: modes captured, high-quality share (within 3 std), reverse KL of the mode histogram",
        options=ModeCoverageOptions,
        data_kinds=("flat",),
    )
    register(
        "conditional-accuracy",
        "ganzoo_metrics.conditional:ConditionalAccuracy",
        description="labelled images: a cached real-data classifier's accuracy on G(z, c) against c",
        options=ClassifierOptions,
        conditional=True,
        data_kinds=("image",),
    )
    register(
        "classifier-fd",
        "ganzoo_metrics.classifier_fd:ClassifierFD",
        description="labelled images: Fréchet distance in a cached classifier's features, beside the real-data floor",
        options=ClassifierOptions,
        conditional=True,
        data_kinds=("image",),
    )
    register(
        "class-coverage",
        "ganzoo_metrics.coverage:ClassCoverage",
        description="labelled images, unconditional G: classes the cached classifier finds among the samples",
        options=ClassCoverageOptions,
        data_kinds=("image",),
    )
    register(
        "prdc",
        "ganzoo_metrics.prdc:PRDC",
        description="labelled images: precision/recall (k-NN manifolds) and density/coverage, beside real-data floors",
        options=SupportOptions,
        conditional=True,
        data_kinds=("image",),
    )
    register(
        "intra-class",
        "ganzoo_metrics.intra_class:IntraClass",
        description="labelled images, conditional G: per-class FD (iFID) and diversity ratio, worst class named",
        options=ClassifierOptions,
        conditional=True,
        data_kinds=("image",),
    )
    register(
        "duplicates",
        "ganzoo_metrics.duplicates:Duplicates",
        description="labelled images: share of same-class generated pairs closer than the closest real pair",
        options=ClassifierOptions,
        conditional=True,
        data_kinds=("image",),
    )
    register(
        "parzen",
        "ganzoo_metrics.parzen:Parzen",
        description="Parzen-window log-likelihood of test points (the original GAN paper's protocol); only when named",
        options=ParzenOptions,
        conditional=True,
    )
    for name, cls, what in (
        ("fid", "FID", "FID"),
        ("kid", "KID", "KID (mean and std over subsets)"),
        ("isc", "ISC", "Inception Score (mean and std over splits)"),
        ("prc", "PRC", "precision, recall and F-score in Inception features"),
    ):
        register(
            name,
            f"ganzoo_metrics.fidelity:{cls}",
            description=f"images: {what} by torch-fidelity (the fid extra) with local Inception weights "
            "(--inception-weights or $GANZOO_INCEPTION_WEIGHTS)",
            options=FidelityOptions,
            conditional=True,
            data_kinds=("image",),
        )
    register(
        "stacked-modes",
        "ganzoo_metrics.stacked:StackedModes",
        description="stacked-digits: modes captured of 1000 and KL to uniform (PacGAN's protocol), beside the real data's",
        options=ClassifierOptions,
        data_kinds=("image",),
        check_recipe=check_stacked_data,
    )
