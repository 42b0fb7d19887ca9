"""The collapse metrics held to values worked out by hand on a few points (identical sets, disjoint sets,
one duplicated sample), then end to end on real digits: real test images sit at the floors, a generator
that replays one image per class is caught by every figure and named by class."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganzoo.errors import GanzooError
from ganzoo.evaluation import EvalContext
from ganzoo.evaluation.runner import build_metric, default_metrics
from ganzoo_metrics.support import (
    by_class,
    closest_pair,
    density_coverage,
    duplicate_rate,
    knn_radii,
    matched,
    mean_pair_distance,
    precision_recall,
    prdc,
)


def points(*xs: float) -> torch.Tensor:
    """1-D points as an [N, 1] array (distances are then |a - b|, easy to check by hand)."""
    return torch.tensor([[x] for x in xs])


REAL = points(0.0, 1.0, 3.0, 6.0)  # k=1 radii: 1, 1, 2, 3


def test_knn_radii_exclude_the_point_itself():
    assert knn_radii(REAL, 1).tolist() == [1.0, 1.0, 2.0, 3.0]
    assert knn_radii(REAL, 2).tolist() == [3.0, 2.0, 3.0, 5.0]
    with pytest.raises(ValueError, match="more than 4 points"):
        knn_radii(REAL, 4)


def test_identical_sets_score_full_precision_recall_coverage_and_density_k_plus_1_over_k():
    assert precision_recall(REAL, REAL, k=1) == (1.0, 1.0)
    density, coverage = density_coverage(REAL, REAL, k=1)
    # closed balls of radius k=1 distance: 0 -> [-1, 1] holds 0, 1; 1 -> [0, 2] holds 0, 1; 3 -> [1, 5] holds
    # 1, 3; 6 -> [3, 9] holds 3, 6: 8 memberships over k * M = 4, i.e. (k + 1) / k (self and its k-th neighbour)
    assert density == pytest.approx(2.0)
    assert coverage == 1.0


def test_disjoint_sets_score_zero_everywhere():
    far = REAL + 100.0
    assert prdc(REAL, far, k=1) == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_partly_overlapping_sets_by_hand():
    fake = points(0.5, 2.0, 50.0, 51.0)  # k=1 fake radii: 1.5, 1.5, 1, 1
    precision, recall = precision_recall(REAL, fake, k=1)
    assert precision == 0.5  # 0.5 (ball of 0 or 1) and 2.0 (ball of 1 reaches 2, of 3 reaches 1..5) are inside
    assert recall == 0.75  # real 0, 1 (ball of 0.5), 3 (ball of 2.0 reaches 0.5..3.5); 6 is in no fake ball
    density, coverage = density_coverage(REAL, fake, k=1)
    # 0.5 lies in the balls of 0 and 1; 2.0 in those of 1 and 3: 4 memberships over k * 4 fakes
    assert density == pytest.approx(4 / 4)
    assert coverage == 0.75  # balls of 0, 1, 3 hold a fake point; 6's does not


def test_one_duplicated_sample_is_one_pair_in_the_duplicate_rate():
    x = points(0.0, 1.0, 3.0, 3.0)  # 6 pairs, one of them at distance 0
    assert closest_pair(REAL) == 1.0
    assert duplicate_rate(x, closest_pair(REAL)) == pytest.approx(1 / 6)
    assert duplicate_rate(REAL, closest_pair(REAL)) == 0.0  # real data never beats its own closest pair
    assert duplicate_rate(points(2.0, 2.0, 2.0), 1.0) == 1.0


def test_mean_pair_distance_is_zero_for_copies():
    assert mean_pair_distance(REAL) == pytest.approx((1 + 3 + 6 + 2 + 5 + 3) / 6)
    assert mean_pair_distance(points(4.0, 4.0, 4.0)) == 0.0


def test_matched_averages_over_whole_chunks():
    x = points(0.0, 1.0, 10.0, 30.0, 99.0)
    out = matched(x, 2, lambda chunk: {"spread": mean_pair_distance(chunk)})
    assert out == {"spread": pytest.approx((10 + 29) / 2)}  # chunks {0, 10} and {1, 30}; 99 left over
    assert matched(x, 10, lambda chunk: {"n": float(len(chunk))}) == {"n": 5.0}


def test_matched_chunks_of_class_blocks_hold_every_class():
    # a conditional model's samples come in class blocks (ganzoo.sampling): 10 classes of 50 each
    labels = torch.arange(10).repeat_interleave(50).float()[:, None]
    out = matched(labels, 100, lambda chunk: {"classes": float(len(chunk.unique())), "n": float(len(chunk))})
    assert out == {"classes": 10.0, "n": 100.0}


def test_by_class_groups_rows_and_drops_small_classes():
    groups = by_class(points(1, 2, 3, 4), torch.tensor([0, 1, 0, 2]), minimum=2)
    assert list(groups) == [0]
    assert groups[0].flatten().tolist() == [1.0, 3.0]


# ---------------------------------------------------------------- on real digits, through the registry
from test_metrics import DIGITS, FAST_CLASSIFIER, ReplayGenerator, card_for  # noqa: E402

NEW = ("prdc", "intra-class", "duplicates")
FAST = {name: dict(FAST_CLASSIFIER) for name in NEW}


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("classifier-cache")


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def context_for(generator: nn.Module, cache, n: int) -> EvalContext:
    card = card_for(DIGITS, shape=(1, 8, 8), num_classes=generator.num_classes, latent_dim=2)
    return EvalContext(generator, card, n=n, cache_dir=cache)


def real(cache, split: str):
    return context_for(ReplayGenerator(torch.zeros(1, 1, 8, 8)), cache, 10).real(split)


def figures(context: EvalContext, name: str) -> dict[str, float]:
    return build_metric(name, FAST[name]).compute(context)


class OneClassCollapsed(ReplayGenerator):
    """Real test images for every class, except ``broken``: always the same image (the issue's 3s)."""

    def __init__(self, images, labels, broken: int) -> None:
        super().__init__(images, labels, conditional=True)
        self.broken = broken
        self.copy = images[(labels == broken).nonzero()[0, 0]]

    def forward(self, z, c=None):
        out = super().forward(z, c).clone()
        out[c == self.broken] = self.copy
        return out


def test_real_test_images_score_the_floors_exactly(cache):
    x, _ = real(cache, "test")
    out = figures(context_for(ReplayGenerator(x), cache, n=len(x)), "prdc")
    for name in ("precision", "recall", "density", "coverage"):
        assert out[name] == pytest.approx(out[f"{name}_floor"]), name
    assert out["recall_ratio"] == pytest.approx(1.0) and out["coverage_ratio"] == pytest.approx(1.0)
    assert 0.5 < out["recall_floor"] <= 1.0 and 0.5 < out["coverage_floor"] <= 1.0


def test_real_test_images_per_class_sit_near_the_floors(cache):
    x, y = real(cache, "test")
    context = context_for(ReplayGenerator(x, y, conditional=True), cache, n=len(x))
    intra = figures(context, "intra-class")
    assert intra["diversity_min"] > 0.8 and intra["diversity_floor_min"] > 0.8
    assert intra["ifid"] == pytest.approx(intra["ifid_floor"], rel=0.25)
    dup = figures(context, "duplicates")
    assert dup["floor_max"] < 0.01 and dup["rate_max"] < 0.01


def test_one_collapsed_class_is_named_by_every_per_class_figure(cache):
    x, y = real(cache, "test")
    context = context_for(OneClassCollapsed(x, y, broken=3), cache, n=500)
    intra = figures(context, "intra-class")
    assert intra["diversity_worst_class"] == 3 and intra["diversity_min"] == pytest.approx(0.0, abs=1e-6)
    assert intra["ifid_worst_class"] == 3 and intra["ifid_worst_ratio"] > 5
    assert intra["diversity_mean"] > 0.8  # the other nine classes are real images
    dup = figures(context, "duplicates")
    assert dup["worst_class"] == 3 and dup["rate_max"] == 1.0 and dup["floor_max"] < 0.01
    support = figures(context, "prdc")
    assert support["coverage_ratio"] < 0.97  # a tenth of the samples pile onto one point


def test_an_unconditional_generator_of_copies_is_caught_within_the_predicted_class(cache):
    x, _ = real(cache, "test")
    context = context_for(ReplayGenerator(x[:4].repeat(50, 1, 1, 1)), cache, n=200)
    dup = figures(context, "duplicates")
    assert dup["rate_max"] > 0.2
    support = figures(context, "prdc")
    assert support["recall_ratio"] < 0.2 and support["coverage_ratio"] < 0.2


def test_new_metrics_are_defaults_for_labelled_images(cache):
    x, y = real(cache, "test")
    conditional = default_metrics(context_for(ReplayGenerator(x, y, conditional=True), cache, 100))
    unconditional = default_metrics(context_for(ReplayGenerator(x), cache, 100))
    assert set(NEW) <= set(conditional)
    assert {"prdc", "duplicates"} <= set(unconditional) and "intra-class" not in unconditional


def test_bad_input_is_one_clear_error(cache):
    x, y = real(cache, "test")
    with pytest.raises(GanzooError, match="takes no class; per-class figures need a conditional generator"):
        figures(context_for(ReplayGenerator(x), cache, 100), "intra-class")
    with pytest.raises(GanzooError, match="too few for k=5 nearest neighbours; use -n 6 or more"):
        figures(context_for(ReplayGenerator(x), cache, 5), "prdc")
    with pytest.raises(GanzooError, match="fewer than 2 per class; use -n 20"):
        figures(context_for(ReplayGenerator(x, y, conditional=True), cache, 12), "intra-class")
