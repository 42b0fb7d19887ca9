"""Modes captured of 1000 on stacked digits, with PacGAN's protocol (Lin et al. 2018, after VEEGAN).

Each colour channel of a sample is labelled by the cached digits classifier (trained on scikit-learn's
digits at the same image size, the one ``classifier-fd`` uses on ``digits``); the three labels make the
sample's mode (000 to 999). A mode is captured when at least one sample falls in it, and the KL divergence
of the mode histogram from the uniform one says how evenly they are filled. The protocol draws 26,000
samples (26 per mode). The real data's own figures, from as many real stacked images labelled the same way,
are reported beside them: they are what a perfect generator would score under this classifier.
"""

from __future__ import annotations

from typing import Any

import attrs
import torch

from ganzoo.plugin import Classifier, EvalContext, GanzooError, classifier_for, warn
from ganzoo_metrics.histogram import reverse_kl_uniform
from ganzoo_metrics.options import ClassifierOptions

DATASET = "stacked-digits"
PROTOCOL_SAMPLES = 26_000
MODES = 1000


def mode_histogram(classifier: Classifier, images: torch.Tensor) -> torch.Tensor:
    """Counts over the 1000 modes of stacked images [N, 3, S, S]: each channel's digit as judged alone."""
    n, channels = images.shape[:2]
    digits = classifier.predict(images.reshape(n * channels, 1, *images.shape[2:])).reshape(n, channels)
    modes = digits[:, 0] * 100 + digits[:, 1] * 10 + digits[:, 2]
    return torch.bincount(modes, minlength=MODES)


def figures(counts: torch.Tensor) -> tuple[float, float]:
    """Modes captured (at least one sample) and KL(histogram || uniform) in nats."""
    return float((counts > 0).sum()), reverse_kl_uniform(counts)


class StackedModes:
    """``stacked-modes``: applies to generators trained on stacked-digits."""

    better = {"modes": "higher", "kl": "lower"}
    name = "stacked-modes"

    def __init__(self, options: ClassifierOptions) -> None:
        self.options = options
        self._classifier: Classifier | None = None
        self._real: dict[tuple[int, int], tuple[float, float]] = {}

    def applies_to(self, context: Any) -> bool:
        return context.dataset_name == DATASET

    def compute(self, context: Any) -> dict[str, float]:
        if context.dataset_name != DATASET:
            raise GanzooError(f"stacked-modes: {context.describe()}; it counts the 1000 modes of {DATASET!r} "
                              "data only")
        if context.n < PROTOCOL_SAMPLES:
            warn(f"stacked-modes: {context.n} samples, fewer than the protocol's {PROTOCOL_SAMPLES:,}: "
                 "modes captured is biased low")
        classifier = self.classifier(context)
        samples, _ = context.samples()
        modes, kl = figures(mode_histogram(classifier, samples))
        real_modes, real_kl = self.real_figures(context, classifier)
        return {"modes": modes, "total_modes": float(MODES), "kl": kl, "real_modes": real_modes,
                "real_kl": real_kl, "classifier_test_accuracy": classifier.test_accuracy}

    def classifier(self, context: Any) -> Classifier:
        """The digits classifier at the stacked images' size, trained once and cached like every other."""
        if self._classifier is None:
            size = int(context.data_info.shape[-1])
            card = attrs.evolve(context.card, recipe={"data": {"name": "digits", "image_size": size}})
            digits = EvalContext(context.generator, card, n=context.n, seed=context.seed, device=context.device,
                                 cache_dir=context.cache_dir, batch_size=context.batch_size,
                                 source=context.source, trust_recipe=True)
            self._classifier = classifier_for(digits, self.options)
        return self._classifier

    def real_figures(self, context: Any, classifier: Classifier) -> tuple[float, float]:
        """The same figures for as many real stacked images (the training split), once per size and seed."""
        key = (context.n, context.seed)
        if key not in self._real:
            real, _ = context.real("train")
            self._real[key] = figures(mode_histogram(classifier, real))
        return self._real[key]
