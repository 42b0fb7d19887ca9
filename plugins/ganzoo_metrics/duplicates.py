"""``duplicates``: how often a generator draws near copies, within each class, beside real data's rate.

A pair of generated images is a duplicate when its distance in the cached classifier's features is below
the closest pair of real training images of that class (real data never does better than its own closest
pair). Classes are the conditioning labels of a conditional generator, and the classifier's predictions
for an unconditional one (a collapse inside one class would be diluted tenfold over all pairs). The floor
is the rate among the real test images of that class; the generated rate is averaged over chunks of the
same size, so both count the same number of pairs.

Figures: ``rate_max`` (the worst class), ``worst_class``, ``floor_max`` (the highest real class rate),
``rate`` and ``floor`` (means over classes). Aim: ``rate_max <= floor_max``.
"""

from __future__ import annotations

from typing import Any

from ganzoo.plugin import ClassifierMetric, GanzooError, labelled_images
from ganzoo_metrics.support import by_class, closest_pair, duplicate_rate, matched


class Duplicates(ClassifierMetric):
    """Applies to any generator of labelled images."""

    #: which way each figure improves (``eval.keep_best`` reads it; floors and counts are not goals)
    better = {"rate_max": "lower", "rate": "lower"}

    name = "duplicates"

    def applies_to(self, context: Any) -> bool:
        return labelled_images(context)

    def compute(self, context: Any) -> dict[str, float]:
        self.require(context)
        classifier = self.classifier(context)
        real = self.memo(context, "duplicate-reference", lambda: _reference(classifier, context))
        samples, labels = context.samples()
        features = classifier.features(samples)
        groups = by_class(features, labels if labels is not None else classifier.predict(samples), minimum=2)
        rates = {}
        for c, rows in groups.items():
            if c in real:
                threshold, floor_size, _ = real[c]
                rates[c] = matched(rows, floor_size, lambda chunk: {"r": duplicate_rate(chunk, threshold)})["r"]
        if not rates:
            raise GanzooError(f"duplicates: {len(samples)} samples (-n) give no class 2 or more of them; "
                              "use a larger -n")
        worst = max(rates, key=rates.__getitem__)
        floors = [floor for _, _, floor in real.values()]
        return {
            "rate_max": rates[worst],
            "worst_class": float(worst),
            "floor_max": max(floors),
            "rate": sum(rates.values()) / len(rates),
            "floor": sum(floors) / len(floors),
        }


def _reference(classifier: Any, context: Any) -> dict[int, tuple[float, int, float]]:
    """``{class: (closest real training pair, test images, real test duplicate rate)}``."""
    split = {}
    for name in ("train", "test"):
        x, y = context.real(name)
        if y is None:
            raise GanzooError(f"{context.dataset_name}: the {name} split has no class labels; duplicates needs them")
        split[name] = by_class(classifier.features(x), y, minimum=2)
    out = {}
    for c, train in split["train"].items():
        if c in split["test"]:
            threshold = closest_pair(train)
            out[c] = (threshold, len(split["test"][c]), duplicate_rate(split["test"][c], threshold))
    return out
