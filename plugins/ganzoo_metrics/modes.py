"""Mode coverage on the 2-D Gaussian mixtures, with the protocol of the mode-collapse papers.

A sample is high quality when it lies within ``threshold`` (3) standard deviations of its nearest mode; a
mode is captured when it is the nearest mode of at least one high-quality sample; the reverse KL compares
the histogram of high-quality samples over modes with the uniform one. 2,500 samples by default.

Units: the dataset scales the protocol's mixture into the generator's range (``centres()`` and ``std`` are
in those model units), and generated samples are in model units too, so distances and the threshold are
compared in one unit. A uniform scale keeps every ratio, so the figures equal the protocol's.

Any dataset that exposes ``centres()`` ([K, D]) and ``std`` is judged, not only the built-in ring and grid.
"""

from __future__ import annotations

from typing import Any

import torch

from ganzoo.plugin import GanzooError
from ganzoo_metrics.histogram import reverse_kl_uniform
from ganzoo_metrics.options import ModeCoverageOptions


def mode_coverage(samples: torch.Tensor, centres: torch.Tensor, std: float, threshold: float = 3.0) -> dict[str, float]:
    """The protocol's figures for ``samples`` [N, D] against mode ``centres`` [K, D] of width ``std``.

    ``modes`` (captured), ``total_modes``, ``high_quality`` (a fraction in [0, 1]) and ``reverse_kl`` (nats).
    """
    x = samples.detach().to(torch.float64).reshape(len(samples), -1).cpu()
    c = centres.detach().to(torch.float64).cpu()
    distance, nearest = torch.cdist(x, c).min(dim=1)
    good = distance <= threshold * float(std)
    counts = torch.bincount(nearest[good], minlength=len(c))
    return {
        "modes": float((counts > 0).sum()),
        "total_modes": float(len(c)),
        "high_quality": float(good.double().mean()) if len(x) else 0.0,
        "reverse_kl": reverse_kl_uniform(counts),
    }


def mixture_of(context: Any) -> Any | None:
    """The dataset object when it is a mixture with known modes (``centres()`` and ``std``), else None."""
    info = context.data_info
    if info is None or info.kind != "flat":
        return None
    data = context.dataset("train")
    return data if hasattr(data, "centres") and hasattr(data, "std") else None


class ModeCoverage:
    """``mode-coverage``: applies to data with known mode centres and width."""

    #: which way each figure improves (``eval.keep_best`` reads it; floors and counts are not goals)
    better = {"modes": "higher", "high_quality": "higher", "reverse_kl": "lower"}

    def __init__(self, options: ModeCoverageOptions) -> None:
        self.options = options

    def applies_to(self, context: Any) -> bool:
        return mixture_of(context) is not None

    def compute(self, context: Any) -> dict[str, float]:
        mixture = mixture_of(context)
        if mixture is None:
            raise GanzooError(
                f"mode-coverage: {context.describe()} has no known modes; it needs a dataset with centres() and "
                "std, such as ring8 or grid25"
            )
        samples, _ = context.samples()
        return mode_coverage(samples, mixture.centres(), mixture.std, self.options.threshold)
