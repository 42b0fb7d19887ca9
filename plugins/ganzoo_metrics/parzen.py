"""Parzen-window log-likelihood, the original GAN paper's figure (Goodfellow et al. 2014, after Breuleux et
al. 2011): fit a Gaussian kernel density to generated samples, choose its width sigma by grid search on
validation points, report the mean log-likelihood of test points and its standard error.

Kept for comparison with the papers, knowing its limits: in high dimensions it ranks models poorly (Theis et
al. 2016). Units matter for a density: images are scored in [0, 1] pixel units as in the paper (ganzoo's
[-1, 1] samples are mapped back), other data in the model's units. Validation points are held out of the
training split by a fixed seed (fresh draws for an endless source); test points come from the test split.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ganzoo.plugin import data_form, warn
from ganzoo_metrics.options import ParzenOptions

DEFAULT_SIGMAS = tuple(float(s) for s in torch.logspace(-3, 0, 30, dtype=torch.float64))
SPLIT_SEED = 0


def squared_distances(points: torch.Tensor, centres: torch.Tensor, batch_size: int = 100) -> torch.Tensor:
    """||x - c||^2 for every point and centre, [M, N] in float64, a batch of points at a time."""
    x = points.reshape(len(points), -1).to(torch.float64)
    c = centres.reshape(len(centres), -1).to(torch.float64)
    c_norm = (c * c).sum(dim=1)
    rows = []
    for chunk in x.split(batch_size):
        rows.append(((chunk * chunk).sum(dim=1, keepdim=True) + c_norm[None, :] - 2.0 * chunk @ c.T).clamp_(min=0))
    return torch.cat(rows)


def log_density(distances: torch.Tensor, sigma: float, dim: int) -> torch.Tensor:
    """Per-point log p(x) of a Gaussian kernel density with ``N = distances.shape[1]`` centres:
    logsumexp_i(-d_i / (2 sigma^2)) - log N - (dim / 2) log(2 pi sigma^2)."""
    n = distances.shape[1]
    return (
        torch.logsumexp(-distances / (2.0 * sigma**2), dim=1)
        - math.log(n)
        - 0.5 * dim * math.log(2.0 * math.pi * sigma**2)
    )


def choose_sigma(validation_distances: torch.Tensor, dim: int, sigmas: tuple[float, ...]) -> float:
    """The sigma of the grid with the highest mean validation log-likelihood; warns at the grid's edge."""
    scores = [float(log_density(validation_distances, s, dim).mean()) for s in sigmas]
    best = max(range(len(sigmas)), key=lambda i: scores[i])
    if len(sigmas) > 1 and best in (0, len(sigmas) - 1):
        warn(f"parzen: the best sigma {sigmas[best]:.3g} is at the edge of the grid; widen parzen.sigmas")
    return sigmas[best]


def parzen(
    samples: torch.Tensor, validation: torch.Tensor, test: torch.Tensor, *,
    sigmas: tuple[float, ...] = DEFAULT_SIGMAS, batch_size: int = 100,
) -> dict[str, float]:
    """The protocol on ready tensors (same units): sigma by validation, then test log-likelihood ± s.e."""
    dim = samples[0].numel()
    sigma = choose_sigma(squared_distances(validation, samples, batch_size), dim, tuple(sigmas))
    values = log_density(squared_distances(test, samples, batch_size), sigma, dim)
    error = float(values.std(unbiased=True) / math.sqrt(len(values))) if len(values) > 1 else float("nan")
    return {"log_likelihood": float(values.mean()), "standard_error": error, "sigma": sigma,
            "test_points": float(len(values))}


class Parzen:
    """``parzen``: no ``applies_to``, so it runs only when named (``--metric parzen``)."""

    #: which way each figure improves (``eval.keep_best`` reads it; floors and counts are not goals)
    better = {"log_likelihood": "higher"}

    def __init__(self, options: ParzenOptions) -> None:
        self.options = options

    def compute(self, context: Any) -> dict[str, float]:
        context.require_dataset()
        samples, _ = context.samples()
        validation, test = self._real(context)
        to_units = _pixel_units if samples.dim() > 2 else (lambda x: x)
        return parzen(
            to_units(samples), to_units(validation), to_units(test),
            sigmas=self.options.sigmas or DEFAULT_SIGMAS, batch_size=self.options.batch_size,
        )

    def _real(self, context: Any) -> tuple[torch.Tensor, torch.Tensor]:
        options = self.options
        if data_form(context.dataset("train")) == "sample":  # an endless source: independent fresh draws
            validation = context.real("validation", options.validation_points)[0]
            return validation, context.real("test", options.test_points)[0]
        train = context.real("train")[0]
        held = min(options.validation_points, max(1, len(train) // 2))
        order = torch.randperm(len(train), generator=torch.Generator().manual_seed(SPLIT_SEED))
        test = context.real("test")[0]
        if len(test) > options.test_points:
            keep = torch.randperm(len(test), generator=torch.Generator().manual_seed(SPLIT_SEED))
            test = test[keep[: options.test_points]]
        return train[order[:held]], test


def _pixel_units(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] images as the paper's [0, 1] pixels."""
    return (x.to(torch.float64) + 1.0) / 2.0
