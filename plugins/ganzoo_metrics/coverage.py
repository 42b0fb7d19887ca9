"""Class coverage of an unconditional generator: how many classes the real-data classifier finds among
its samples, and how far their histogram is from uniform (reverse KL, as for the mixtures' modes).

A class counts as covered when it receives at least ``min_share`` of its uniform share of the samples,
so a few misclassified samples do not make a collapsed generator look diverse. The judge's own accuracy on
the real test split is reported beside it.
"""

from __future__ import annotations

from typing import Any

import torch

from ganzoo.plugin import ClassifierMetric, GanzooError, labelled_images
from ganzoo_metrics.histogram import reverse_kl_uniform


class ClassCoverage(ClassifierMetric):
    """``class-coverage``: applies to unconditional generators of labelled images."""

    #: which way each figure improves (``eval.keep_best`` reads it; floors and counts are not goals)
    better = {"classes": "higher", "reverse_kl": "lower"}

    name = "class-coverage"

    def applies_to(self, context: Any) -> bool:
        return labelled_images(context) and not context.conditional

    def compute(self, context: Any) -> dict[str, float]:
        self.require(context)
        if context.conditional:
            raise GanzooError(f"class-coverage: {context.describe()} is told its class; try conditional-accuracy")
        classifier = self.classifier(context)
        samples, _ = context.samples()
        classes = int(classifier.meta["num_classes"])
        counts = torch.bincount(classifier.predict(samples), minlength=classes)
        enough = self.options.min_share * len(samples) / classes
        return {
            "classes": float((counts >= max(enough, 1)).sum()),
            "total_classes": float(classes),
            "reverse_kl": reverse_kl_uniform(counts),
            "classifier_test_accuracy": classifier.test_accuracy,
        }
