"""Self-conditioning: k-means clusters of the training data as the labels G and D are conditioned on.

A discriminator told the classes (projection) judges each class against its own reals; one that is not must
tell a half-formed stroke between two digits from a digit by itself, and an unconditional G on a small set
draws many such strokes. Clustering the training images and conditioning both nets on the cluster gives
an unlabelled set most of that benefit (Lucic et al. 2019, "High-Fidelity Image Generation With Fewer
Labels", the clustering variant; Liu et al. 2020, "Diverse Image Generation via Self-Conditioned GANs").
No label is read: the clusters come from the images alone.

The clusters are a pure function of the training data (k-means++ from a fixed seed, several restarts, the
lowest within-cluster sum of squares kept, clusters numbered by falling size), so a resumed run recomputes
the same ones. An endless source (a 2-D mixture) is clustered on a fixed draw of it, and each batch it
gives is labelled by the nearest centre. Sampling the trained model unconditionally draws the clusters with
their training frequencies (the ``label_prior`` of its weights file).
"""

from __future__ import annotations

from typing import Any

import attrs
import torch
import torch.nn.functional as F

from ganzoo.contracts import DataInfo, data_form, data_info
from ganzoo.errors import GanzooError

#: images are averaged down to at most this many pixels a side before clustering: the clusters should
#: follow a digit's overall shape, not where each stroke's edge falls
POOL_SIDE = 8
RESTARTS = 4
MAX_ITERATIONS = 100


def features(x: torch.Tensor) -> torch.Tensor:
    """What k-means sees of each sample: points as they are, images pooled to at most 8x8, flattened."""
    x = x.float()
    if x.dim() == 4 and max(x.shape[-2:]) > POOL_SIDE:
        x = F.adaptive_avg_pool2d(x, (min(x.shape[-2], POOL_SIDE), min(x.shape[-1], POOL_SIDE)))
    return x.flatten(1)


def kmeans(points: torch.Tensor, k: int, *, seed: int = 0) -> torch.Tensor:
    """Cluster indices [N] of ``points`` [N, D]: the best of several k-means++ starts, largest cluster 0."""
    if not 1 <= k <= len(points):
        raise ValueError(f"k = {k} clusters of {len(points)} points; allowed: 1..{len(points)}")
    generator = torch.Generator().manual_seed(seed)
    best, best_cost = None, float("inf")
    for _ in range(RESTARTS):
        labels, cost = _lloyd(points, _plus_plus(points, k, generator))
        if cost < best_cost:
            best, best_cost = labels, cost
    sizes = torch.bincount(best, minlength=k)
    order = torch.argsort(-sizes, stable=True)  # cluster 0 the largest: the same numbering on every restart
    return torch.argsort(order)[best]


def _plus_plus(points: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    """k-means++ seeding: each next centre drawn with probability proportional to its squared distance."""
    centres = [points[torch.randint(len(points), (1,), generator=generator)]]
    nearest = torch.cdist(points, centres[0]).squeeze(1) ** 2
    for _ in range(1, k):
        weights = nearest if float(nearest.sum()) > 0 else torch.ones_like(nearest)
        pick = torch.multinomial(weights, 1, generator=generator)
        centres.append(points[pick])
        nearest = torch.minimum(nearest, torch.cdist(points, points[pick]).squeeze(1) ** 2)
    return torch.cat(centres)


def _lloyd(points: torch.Tensor, centres: torch.Tensor) -> tuple[torch.Tensor, float]:
    labels = None
    for _ in range(MAX_ITERATIONS):
        distances = torch.cdist(points, centres) ** 2
        new = distances.argmin(dim=1)
        if labels is not None and torch.equal(new, labels):
            break
        labels = new
        for j in range(len(centres)):
            members = points[labels == j]
            # an emptied cluster takes the point farthest from its centre, so k clusters stay k
            centres[j] = members.mean(0) if len(members) else points[distances.min(dim=1).values.argmax()]
    distances = torch.cdist(points, centres) ** 2
    return labels, float(distances.gather(1, labels[:, None]).sum())


def centres_of(points: torch.Tensor, labels: torch.Tensor, k: int) -> torch.Tensor:
    """Each cluster's mean [k, D]."""
    return torch.stack([points[labels == j].mean(0) for j in range(k)])


def shares(labels: torch.Tensor, k: int) -> tuple[float, ...]:
    """Each cluster's share of ``labels``: how often unconditional sampling draws it."""
    counts = torch.bincount(labels, minlength=k).double()
    return tuple(float(v) for v in counts / counts.sum())


def nearest(points: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """The index of the nearest centre of each point."""
    return torch.cdist(points, centres).argmin(dim=1)


@attrs.define
class ClusteredData:
    """A dataset's training tensors with its labels (if any) replaced by k-means clusters of its samples."""

    x: torch.Tensor
    labels: torch.Tensor
    info: DataInfo

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x, self.labels

    @property
    def prior(self) -> tuple[float, ...]:
        return shares(self.labels, self.info.num_classes)


@attrs.define
class ClusteredSource:
    """An endless source (``sample(n, generator)``, a 2-D mixture) whose draws are labelled by the nearest of
    the centres that k-means found on a fixed draw of it."""

    source: Any
    centres: torch.Tensor
    prior: tuple[float, ...]
    info: DataInfo

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        x, _ = self.source.sample(n, generator)
        return x, nearest(features(x), self.centres.to(x.device))


#: points drawn from an endless source to find its clusters: per cluster, and at least (10,000 points
#: hold 200 per cluster up to 50 clusters; 20 per cluster keeps 1,000 clusters of stacked digits to about 10 s
#: a restart instead of minutes, the k-means++ seeding alone costing one pass over the points per centre)
FIT_PER_CLUSTER, FIT_MIN = 20, 10_000


def cluster_data(data: Any, k: int, source: str = "data") -> ClusteredData | ClusteredSource:
    """``data`` with its labels replaced by k-means clusters: a dataset held in memory (``tensors()``) is
    clustered whole; an endless one (``sample()``) on a fixed draw, its batches labelled by the nearest centre.
    One-line errors for other data."""
    form = data_form(data)
    if form == "sample":
        fit, _ = data.sample(max(FIT_MIN, FIT_PER_CLUSTER * k), torch.Generator().manual_seed(0))
        points = features(fit)
        labels = kmeans(points, k)
        return ClusteredSource(data, centres_of(points, labels, k), shares(labels, k), _info(data, fit, k))
    if form != "tensors":
        raise GanzooError(f"{source}: clusters = {k} needs a dataset held in memory (tensors()) or an endless "
                          f"source (sample()); {type(data).__name__} offers neither: set clusters = 0")
    x, _ = data.tensors()
    if k > len(x):
        raise GanzooError(f"{source}: clusters = {k}, but the training data holds {len(x)} samples; allowed: "
                          f"1..{len(x)}")
    return ClusteredData(x, kmeans(features(x), k), _info(data, x, k))


def _info(data: Any, samples: torch.Tensor, k: int) -> DataInfo:
    """The dataset's info (or the samples' shape, for raw data) with the K clusters as its classes."""
    return attrs.evolve(data_info(data) or DataInfo(tuple(samples.shape[1:])), num_classes=k)
