"""Support- and pair-based figures on feature arrays: what sees collapse where averages do not.

Pure functions of ``[N, D]`` tensors (distances in float64), so each can be checked by hand on a few
points:

- precision / recall (Kynkäänniemi et al. 2019): the share of generated points inside the real data's
  k-nearest-neighbour manifold (a union of balls, each real point's radius the distance to its k-th
  neighbour), and the share of real points inside the generated manifold;
- density / coverage (Naeem et al. 2020): how many real balls hold each generated point on average
  (divided by k: about 1 when the two sets are alike), and the share of real balls holding at least one
  generated point;
- mean pairwise distance (the within-class diversity ratio divides two of them) and the duplicate rate:
  the share of pairs closer than a threshold (the closest real pair).

Balls are closed (``<=``): a real point repeated twice keeps a radius-0 ball that still holds its copy.
Recall and coverage depend on how many generated points there are (more points, smaller balls, more
covered), so :func:`matched` evaluates a figure on disjoint chunks of the size its real floor was computed
at and averages them.
"""

from __future__ import annotations

from collections.abc import Callable

import torch


def distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Euclidean distances ``[len(a), len(b)]`` in float64."""
    return torch.cdist(_flat(a), _flat(b))


def _flat(x: torch.Tensor) -> torch.Tensor:
    return x.detach().to(torch.float64).reshape(len(x), -1).cpu()


def knn_radii(x: torch.Tensor, k: int) -> torch.Tensor:
    """Each point's distance to its ``k``-th nearest neighbour in ``x``, itself excluded."""
    if not 1 <= k < len(x):
        raise ValueError(f"k-nearest-neighbour radii with k={k} need more than {k} points, got {len(x)}")
    return distances(x, x).sort(dim=1).values[:, k]  # column 0 is the point itself (distance 0)


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = 5) -> tuple[float, float]:
    """(precision, recall): fake points within the real manifold, real points within the fake one."""
    between = distances(real, fake)  # [R, F]
    precision = (between <= knn_radii(real, k)[:, None]).any(dim=0).double().mean()
    recall = (between <= knn_radii(fake, k)[None, :]).any(dim=1).double().mean()
    return float(precision), float(recall)


def density_coverage(real: torch.Tensor, fake: torch.Tensor, k: int = 5) -> tuple[float, float]:
    """(density, coverage): real balls per fake point over k, and real balls holding any fake point."""
    inside = distances(real, fake) <= knn_radii(real, k)[:, None]  # [R, F]
    density = inside.double().sum() / (k * fake.shape[0])
    coverage = inside.any(dim=1).double().mean()
    return float(density), float(coverage)


def prdc(real: torch.Tensor, fake: torch.Tensor, k: int = 5) -> dict[str, float]:
    """The four support figures of ``fake`` against the reference ``real``."""
    precision, recall = precision_recall(real, fake, k)
    density, coverage = density_coverage(real, fake, k)
    return {"precision": precision, "recall": recall, "density": density, "coverage": coverage}


def pair_distances(x: torch.Tensor) -> torch.Tensor:
    """The ``N (N - 1) / 2`` distances between distinct points of ``x``."""
    if len(x) < 2:
        raise ValueError(f"pairwise distances need at least 2 points, got {len(x)}")
    rows, cols = torch.triu_indices(len(x), len(x), offset=1)
    return distances(x, x)[rows, cols]


def mean_pair_distance(x: torch.Tensor) -> float:
    """Mean distance between distinct points: how spread out a set is (0 for copies of one point)."""
    return float(pair_distances(x).mean())


def closest_pair(x: torch.Tensor) -> float:
    """The smallest distance between two distinct points of ``x``."""
    return float(pair_distances(x).min())


def duplicate_rate(x: torch.Tensor, threshold: float) -> float:
    """Share of the pairs of ``x`` closer than ``threshold`` (strictly: real data's closest pair scores 0)."""
    return float((pair_distances(x) < threshold).double().mean())


def matched(fake: torch.Tensor, size: int, figure: Callable[[torch.Tensor], dict[str, float]]) -> dict[str, float]:
    """``figure`` on disjoint chunks of ``size`` points of ``fake`` (what is left over dropped), averaged: a
    generated figure at the sample size of its real floor.

    A chunk takes every n-th point, not a run of consecutive ones: a conditional model's samples come in
    class blocks, and a run of them would hold one or two classes, against a real set of all ten (recall
    and coverage read as about a quarter of their worth)."""
    size = max(1, min(int(size), len(fake)))
    count = len(fake) // size
    chunks = [fake[start::count][:size] for start in range(count)]
    results = [figure(chunk) for chunk in chunks]
    return {key: sum(r[key] for r in results) / len(results) for key in results[0]}


def by_class(x: torch.Tensor, labels: torch.Tensor, minimum: int = 1) -> dict[int, torch.Tensor]:
    """``{class: rows of x with that label}`` for the classes with at least ``minimum`` rows."""
    labels = labels.cpu()
    found = {int(c): x[labels == c] for c in labels.unique().tolist()}
    return {c: rows for c, rows in sorted(found.items()) if len(rows) >= minimum}
