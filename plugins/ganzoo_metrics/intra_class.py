"""``intra-class``: per-class figures of a conditional generator, with the worst class named.

A conditional model can reach 98.8% class accuracy with one class reduced to a single image: averages hide
that, per-class figures do not. For each class c, in the cached classifier's features:

- intra-class Fréchet distance (StudioGAN's iFID): G(z, c) against the real training images of class c;
  its floor is the real test images of class c against the same. A class holds only tens of test images,
  fewer than ten per feature, so both sides are biased upward alike: the generated side is averaged over
  chunks of the floor's size, and the worst class is the one with the highest ratio to its own floor;
- within-class diversity ratio: the mean pairwise distance of G(z, c) over that of the real training
  images of class c (1 for real data, whatever the sample size: a mean over pairs is unbiased); its floor
  is the real test class's ratio. A class drawn as near copies scores far below 1.

Figures: ``ifid`` and ``ifid_floor`` (means over classes), ``ifid_worst_ratio`` and ``ifid_worst_class``,
``diversity_min`` (the worst class's ratio), ``diversity_worst_class``, ``diversity_mean`` and
``diversity_floor_min``.
"""

from __future__ import annotations

from typing import Any

from ganzoo.plugin import ClassifierMetric, frechet_distance, GanzooError, gaussian_stats, labelled_images
from ganzoo_metrics.support import by_class, matched, mean_pair_distance


class IntraClass(ClassifierMetric):
    """Applies to conditional generators of labelled images."""

    #: which way each figure improves (``eval.keep_best`` reads it; floors and counts are not goals)
    better = {"ifid": "lower", "ifid_worst_ratio": "lower", "diversity_min": "higher", "diversity_mean": "higher"}

    name = "intra-class"

    def applies_to(self, context: Any) -> bool:
        return labelled_images(context) and context.conditional

    def compute(self, context: Any) -> dict[str, float]:
        self.require(context)
        if not context.conditional:
            raise GanzooError(f"intra-class: {context.describe()} takes no class; per-class figures need a "
                              "conditional generator (duplicates and prdc work without one)")
        samples, labels = context.samples()
        if len(samples) < 2 * context.num_classes:
            raise GanzooError(f"intra-class: {len(samples)} samples (-n) give fewer than 2 per class; "
                              f"use -n {2 * context.num_classes} or more")
        classifier = self.classifier(context)
        train = self.memo(context, "train-by-class", lambda: _real_by_class(classifier, context, "train"))
        test = self.memo(context, "test-by-class", lambda: _real_by_class(classifier, context, "test"))
        fake = by_class(classifier.features(samples), labels)
        ratios, diversity, floors, fids, fid_floors = {}, {}, {}, [], []
        for c, rows in fake.items():
            if c not in train or c not in test or len(rows) < 2:
                continue
            size = min(len(test[c]), len(rows))
            stats = gaussian_stats(train[c])
            fid = matched(rows, size, lambda chunk: {"fd": frechet_distance(*gaussian_stats(chunk), *stats)})["fd"]
            floor = frechet_distance(*gaussian_stats(test[c]), *stats)
            fids.append(fid)
            fid_floors.append(floor)
            ratios[c] = fid / floor if floor > 0 else float("inf")
            spread = mean_pair_distance(train[c])
            diversity[c] = mean_pair_distance(rows) / spread
            floors[c] = mean_pair_distance(test[c]) / spread
        if not ratios:
            raise GanzooError(f"intra-class: no class of {context.describe()} has both real and generated images")
        worst_fid = max(ratios, key=ratios.__getitem__)
        worst_div = min(diversity, key=diversity.__getitem__)
        return {
            "ifid": sum(fids) / len(fids),
            "ifid_floor": sum(fid_floors) / len(fid_floors),
            "ifid_worst_ratio": ratios[worst_fid],
            "ifid_worst_class": float(worst_fid),
            "diversity_min": diversity[worst_div],
            "diversity_worst_class": float(worst_div),
            "diversity_mean": sum(diversity.values()) / len(diversity),
            "diversity_floor_min": min(floors.values()),
        }


def _real_by_class(classifier: Any, context: Any, split: str) -> dict:
    x, y = context.real(split)
    if y is None:
        raise GanzooError(f"{context.dataset_name}: the {split} split has no class labels; per-class figures need them")
    return by_class(classifier.features(x), y, minimum=2)
