"""``prdc``: precision, recall, density and coverage in the cached classifier's features, each beside its
real-data floor.

The reference set is the real training split. The floor is what fresh real images score: the real test
split against the same training split. Recall and coverage grow with the number of generated points, so
the generated figures are averaged over disjoint chunks of exactly the floor's sample size (the test
split's, or ``-n`` when that is smaller). ``recall_ratio`` and ``coverage_ratio`` divide by the floors:
a generator that drops modes or whole styles loses recall and coverage, one that draws blurs loses
precision and density.
"""

from __future__ import annotations

from typing import Any

import torch

from ganzoo.plugin import ClassifierMetric, GanzooError, labelled_images
from ganzoo_metrics.support import matched, prdc

FIGURES = ("precision", "recall", "density", "coverage")


class PRDC(ClassifierMetric):
    """Applies to any generator of labelled images, conditional or not."""

    #: which way each figure improves (``eval.keep_best`` reads it; floors and counts are not goals)
    better = {"precision": "higher", "recall": "higher", "coverage": "higher", "recall_ratio": "higher",
              "coverage_ratio": "higher"}

    name = "prdc"

    def applies_to(self, context: Any) -> bool:
        return labelled_images(context)

    def compute(self, context: Any) -> dict[str, float]:
        self.require(context)
        k = self.options.k
        samples, _ = context.samples()
        if len(samples) <= k:
            raise GanzooError(f"prdc: {len(samples)} samples (-n) are too few for k={k} nearest neighbours; "
                              f"use -n {k + 1} or more")
        classifier = self.classifier(context)
        train = self.memo(context, "train-features", lambda: classifier.features(context.real("train")[0]))
        test = self.memo(context, "test-features", lambda: classifier.features(context.real("test")[0]))
        size = min(len(test), len(samples))
        if len(train) <= k:
            raise GanzooError(f"prdc: the training split has {len(train)} images, too few for k={k}")
        floor = self.memo(context, f"prdc-floor-{k}-{size}", lambda: prdc(train, _subset(test, size, context.seed), k))
        figures = matched(classifier.features(samples), size, lambda chunk: prdc(train, chunk, k))
        out: dict[str, float] = {}
        for name in FIGURES:
            out[name], out[f"{name}_floor"] = figures[name], floor[name]
        for name in ("recall", "coverage"):
            out[f"{name}_ratio"] = figures[name] / floor[name] if floor[name] > 0 else float("inf")
        return out


def _subset(x: torch.Tensor, size: int, seed: int) -> torch.Tensor:
    """``size`` rows of ``x``, seeded (all of them when ``size`` is not smaller)."""
    if size >= len(x):
        return x
    return x[torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:size]]
