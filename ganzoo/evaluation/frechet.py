"""The Fréchet distance between Gaussians fitted to two sets of features, computed stably.

FD = ||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^{1/2}). The usual ``scipy.linalg.sqrtm(S1 @ S2)``
works on a non-symmetric product, returns complex noise for near-singular covariances and needs ad-hoc
fixes. Here everything is float64 and symmetric: tr((S1 S2)^{1/2}) = tr((S1^{1/2} S2 S1^{1/2})^{1/2}), and
the latter is a symmetric positive semi-definite matrix whose square root is read off ``eigh``
(eigenvalues clamped at 0, which only removes rounding noise).

The estimate is biased upward when there are few samples per feature; :func:`check_sample_count` warns.
"""

from __future__ import annotations

import torch

from ganzoo.evaluation.warn import warn

# Far more samples than features: below this ratio the covariance estimate is poor and FD inflates.
MIN_SAMPLES_PER_FEATURE = 10


def check_sample_count(n: int, dim: int, what: str = "features") -> None:
    """Warn when ``n`` samples are too few to estimate a ``dim``-dimensional covariance."""
    if n < MIN_SAMPLES_PER_FEATURE * dim:
        warn(
            f"Fréchet distance from {n} samples of {dim}-dimensional {what}: fewer than "
            f"{MIN_SAMPLES_PER_FEATURE} per dimension, so the figure is biased upward; use more samples (-n)"
        )


def gaussian_stats(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and unbiased covariance, in float64, of ``features`` [N, D] (N >= 2)."""
    x = features.detach().to(torch.float64).reshape(len(features), -1).cpu()
    if len(x) < 2:
        raise ValueError(f"a covariance needs at least 2 samples, got {len(x)}")
    mu = x.mean(dim=0)
    centred = x - mu
    return mu, centred.T @ centred / (len(x) - 1)


def sqrtm_psd(matrix: torch.Tensor) -> torch.Tensor:
    """The symmetric square root of a symmetric positive semi-definite matrix, via ``eigh`` in float64."""
    m = matrix.to(torch.float64)
    values, vectors = torch.linalg.eigh((m + m.T) / 2)
    return (vectors * values.clamp(min=0).sqrt()) @ vectors.T


def trace_sqrt_product(s1: torch.Tensor, s2: torch.Tensor) -> float:
    """tr((S1 S2)^{1/2}) for covariances S1, S2, through the symmetric form S1^{1/2} S2 S1^{1/2}."""
    root = sqrtm_psd(s1)
    inner = root @ s2.to(torch.float64) @ root
    values = torch.linalg.eigvalsh((inner + inner.T) / 2)
    return float(values.clamp(min=0).sqrt().sum())


def frechet_distance(mu1: torch.Tensor, s1: torch.Tensor, mu2: torch.Tensor, s2: torch.Tensor) -> float:
    """Fréchet (2-Wasserstein) distance between N(mu1, S1) and N(mu2, S2); never negative."""
    mu1, mu2 = mu1.to(torch.float64), mu2.to(torch.float64)
    s1, s2 = s1.to(torch.float64), s2.to(torch.float64)
    if mu1.shape != mu2.shape or s1.shape != s2.shape:
        raise ValueError(f"feature sizes differ: {tuple(mu1.shape)} and {tuple(mu2.shape)}")
    diff = float(((mu1 - mu2) ** 2).sum())
    value = diff + float(torch.trace(s1) + torch.trace(s2)) - 2.0 * trace_sqrt_product(s1, s2)
    return max(value, 0.0)


def frechet_from_features(a: torch.Tensor, b: torch.Tensor, *, what: str = "features") -> float:
    """Fréchet distance between Gaussians fitted to two feature sets [N, D] and [M, D], warning if too few."""
    dim = a[0].numel()
    check_sample_count(min(len(a), len(b)), dim, what)
    return frechet_distance(*gaussian_stats(a), *gaussian_stats(b))
