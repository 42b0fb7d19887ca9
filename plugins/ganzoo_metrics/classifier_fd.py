"""A Fréchet distance in the feature space of the cached real-data classifier, with its real-data floor.

``fd`` compares generated samples with the real training split; ``fd_floor`` compares the real test split
with the same training split: what an ideal generator (one that draws fresh real images) would score, given
as many samples as the test split holds. ``fd_ratio`` = fd / fd_floor (aim: 2 or less). The floor is
computed from the test split's size, so with ``-n`` far above it the generated figure has the smaller
estimation bias of the two.
"""

from __future__ import annotations

from typing import Any

from ganzoo.plugin import ClassifierMetric, frechet_from_features, labelled_images

WHAT = "classifier features"


class ClassifierFD(ClassifierMetric):
    """``classifier-fd``: applies to any generator of labelled images, conditional or not."""

    #: which way each figure improves (``eval.keep_best`` reads it; floors and counts are not goals)
    better = {"fd": "lower", "fd_ratio": "lower"}

    name = "classifier-fd"

    def applies_to(self, context: Any) -> bool:
        return labelled_images(context)

    def compute(self, context: Any) -> dict[str, float]:
        self.require(context)
        classifier = self.classifier(context)
        train = self.memo(context, "train-features", lambda: classifier.features(context.real("train")[0]))
        test = self.memo(context, "test-features", lambda: classifier.features(context.real("test")[0]))
        floor = self.memo(context, "floor", lambda: frechet_from_features(test, train, what=WHAT))
        samples, _ = context.samples()
        fd = frechet_from_features(classifier.features(samples), train, what=WHAT)
        return {"fd": fd, "fd_floor": floor, "fd_ratio": fd / floor if floor > 0 else float("inf")}
