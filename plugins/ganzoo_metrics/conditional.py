"""Conditional accuracy: does G(z, c) look like class c to a classifier trained on real data?

Read it beside ``classifier_test_accuracy``, the same classifier's accuracy on real test images: a
generator cannot be judged more accurately than the judge itself.
"""

from __future__ import annotations

from typing import Any

from ganzoo.plugin import accuracy, ClassifierMetric, GanzooError, labelled_images


class ConditionalAccuracy(ClassifierMetric):
    """``conditional-accuracy``: applies to conditional generators of labelled images."""

    #: which way each figure improves (``eval.keep_best`` reads it; floors and counts are not goals)
    better = {"accuracy": "higher"}

    name = "conditional-accuracy"

    def applies_to(self, context: Any) -> bool:
        return labelled_images(context) and context.conditional

    def compute(self, context: Any) -> dict[str, float]:
        self.require(context)
        if not context.conditional:
            raise GanzooError(f"conditional-accuracy: {context.describe()} takes no class; try class-coverage")
        classifier = self.classifier(context)
        samples, labels = context.samples()
        return {"accuracy": accuracy(classifier, samples, labels), "classifier_test_accuracy": classifier.test_accuracy}
