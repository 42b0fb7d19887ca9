"""The metrics hold to facts known in advance: the true mixture scores every mode and 1 - exp(-4.5) high
quality, FD of a set with itself is 0 and grows by ||shift||^2, real data scores the classifier's own
accuracy, a cached classifier is never trained twice, and Parzen recovers a known Gaussian's likelihood."""

from __future__ import annotations

import importlib.util
import math
from types import SimpleNamespace

import attrs
import pytest
import torch
from torch import nn

from ganzoo.errors import GanzooError
from ganzoo.evaluation import EvalContext, EvaluationWarning, default_metrics, evaluate
from ganzoo.evaluation.callback import EvalCallback
from ganzoo.evaluation.frechet import frechet_distance, frechet_from_features, gaussian_stats, sqrtm_psd
from ganzoo.evaluation.frechet import trace_sqrt_product
from ganzoo.evaluation.runner import build_metric
from ganzoo.recipe.schema import EvalOptions
from ganzoo.run_folder import RunFolder
from ganzoo.training.view import StepView
from ganzoo.weights import ModelCard
from ganzoo.evaluation import classifier as classifier_module
from ganzoo_metrics.histogram import reverse_kl_uniform
from ganzoo_metrics.modes import mode_coverage
from ganzoo_metrics.parzen import log_density, parzen, squared_distances

HQ_2D = 1.0 - math.exp(-4.5)  # mass of a 2-D standard Gaussian within 3 std of its centre
FAST_CLASSIFIER = {"epochs": 5, "width": 8}  # enough for 8x8 digits in a few seconds; shared by every classifier test


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    """Never write to the home folder; one thread (tiny ops on a shared 2-core machine run faster so)."""
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("GANZOO_INCEPTION_WEIGHTS", raising=False)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def card_for(data: dict | None, *, shape, num_classes: int = 0, latent_dim: int = 3) -> ModelCard:
    recipe = None if data is None else {"data": data}
    return ModelCard(role="generator", component=None, plugin=None, options={}, shape=tuple(shape),
                     num_classes=num_classes, latent_dim=latent_dim, recipe=recipe)


class MixtureGenerator(nn.Module):
    """Maps z exactly onto the true mixture: z[0] picks the mode (by its normal CDF), z[1:3] the offset.
    ``only`` pins every sample to one mode (total collapse)."""

    def __init__(self, mixture, only: int | None = None) -> None:
        super().__init__()
        self.mixture, self.only = mixture, only
        self.latent_dim, self.num_classes = 3, 0
        self.anchor = nn.Parameter(torch.zeros(()))

    def forward(self, z, c=None):
        k = self.mixture.num_modes
        mode = (0.5 * (1 + torch.erf(z[:, 0] / math.sqrt(2))) * k).long().clamp(max=k - 1)
        if self.only is not None:
            mode = torch.full_like(mode, self.only)
        return self.mixture.centres()[mode] + self.mixture.std * z[:, 1:3]


def mixture_context(name: str, only: int | None = None, **options) -> EvalContext:
    from ganzoo.api import build_dataset

    mixture = build_dataset(name, **options)
    card = card_for({"name": name, **options}, shape=(2,))
    return EvalContext(MixtureGenerator(mixture, only), card, n=2500)


# ---------------------------------------------------------------- mode coverage
@pytest.mark.parametrize("name,modes", [("ring8", 8), ("grid25", 25)])
def test_true_mixture_scores_every_mode_and_the_gaussian_mass_within_3_std(name, modes):
    figures = evaluate(mixture_context(name), ["mode-coverage"])["mode-coverage"]
    assert figures["modes"] == figures["total_modes"] == modes
    assert figures["high_quality"] == pytest.approx(HQ_2D, abs=0.01)
    assert figures["reverse_kl"] < 0.02


def test_threshold_is_applied_in_the_scaled_units_whatever_the_scale():
    for scale in (0.5, 1.0):
        figures = evaluate(mixture_context("ring8", scale=scale), ["mode-coverage"])["mode-coverage"]
        assert figures["modes"] == 8
        assert figures["high_quality"] == pytest.approx(HQ_2D, abs=0.01)


def test_collapse_onto_one_mode_scores_one_mode():
    figures = evaluate(mixture_context("grid25", only=7), ["mode-coverage"])["mode-coverage"]
    assert figures["modes"] == 1
    assert figures["reverse_kl"] == pytest.approx(math.log(25))


def test_samples_beyond_3_std_are_low_quality_and_capture_nothing():
    centres = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    samples = torch.tensor([[0.0, 0.031], [0.0, 0.029], [1.0, 0.5]])
    figures = mode_coverage(samples, centres, std=0.01)
    assert figures["high_quality"] == pytest.approx(1 / 3)
    assert figures["modes"] == 1


def test_reverse_kl_against_uniform():
    assert reverse_kl_uniform(torch.tensor([5, 5, 5, 5])) == pytest.approx(0.0)
    assert reverse_kl_uniform(torch.tensor([0, 9, 0, 0])) == pytest.approx(math.log(4))
    assert reverse_kl_uniform(torch.zeros(4)) == pytest.approx(math.log(4))  # nothing to judge: the maximum


# ---------------------------------------------------------------- Fréchet math
def test_frechet_distance_of_a_set_with_itself_is_zero_and_a_shift_adds_its_squared_norm():
    x = torch.randn(4000, 8, generator=torch.Generator().manual_seed(0))
    shift = torch.tensor([1.0, -2.0, 0.5, 0, 0, 0, 0, 3.0])
    assert frechet_from_features(x, x) == pytest.approx(0.0, abs=1e-6)
    assert frechet_from_features(x, x + shift) == pytest.approx(float((shift**2).sum()), rel=1e-6)


def test_frechet_distance_of_two_known_gaussians():
    # N(0, diag(1, 4)) and N(0, diag(4, 1)): tr S1 + tr S2 - 2 tr sqrt(S1 S2) = 10 - 2 * (2 + 2) = 2
    s1, s2, zero = torch.diag(torch.tensor([1.0, 4.0])), torch.diag(torch.tensor([4.0, 1.0])), torch.zeros(2)
    assert frechet_distance(zero, s1, zero, s2) == pytest.approx(2.0)


def test_matrix_square_root_agrees_with_the_closed_form():
    s = torch.tensor([[2.0, 1.0], [1.0, 2.0]], dtype=torch.float64)  # eigenvalues 3 and 1
    a, b = (math.sqrt(3) + 1) / 2, (math.sqrt(3) - 1) / 2
    root = sqrtm_psd(s)
    assert root.dtype == torch.float64
    assert torch.allclose(root, torch.tensor([[a, b], [b, a]], dtype=torch.float64), atol=1e-12)
    assert torch.allclose(root @ root, s, atol=1e-12)


def test_trace_sqrt_product_matches_scipy_on_a_random_case():
    linalg = pytest.importorskip("scipy.linalg")
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(6, 6, generator=g, dtype=torch.float64), torch.randn(6, 6, generator=g, dtype=torch.float64)
    s1, s2 = a @ a.T, b @ b.T
    expected = float(linalg.sqrtm((s1 @ s2).numpy()).trace().real)
    assert trace_sqrt_product(s1, s2) == pytest.approx(expected, rel=1e-8)


def test_singular_covariances_give_a_finite_non_negative_distance():
    x = torch.randn(500, 3, generator=torch.Generator().manual_seed(2))
    flat = torch.cat([x, torch.zeros(500, 5)], dim=1)  # 5 dead features: rank-deficient covariance
    value = frechet_distance(*gaussian_stats(flat), *gaussian_stats(flat * 1.0000001))
    assert math.isfinite(value) and value >= 0.0


def test_too_few_samples_per_feature_warn():
    x = torch.randn(50, 32, generator=torch.Generator().manual_seed(3))
    with pytest.warns(EvaluationWarning, match="fewer than 10 per dimension"):
        frechet_from_features(x, x)


# ---------------------------------------------------------------- Parzen
def test_parzen_with_one_centre_is_the_gaussian_density():
    points = torch.tensor([[0.0, 0.0], [1.0, 2.0]])
    values = log_density(squared_distances(points, torch.zeros(1, 2)), sigma=0.5, dim=2)
    expected = -torch.tensor([0.0, 5.0]) / (2 * 0.25) - math.log(2 * math.pi * 0.25)
    assert torch.allclose(values.float(), expected, atol=1e-6)


def test_parzen_recovers_a_known_gaussian_likelihood():
    g = torch.Generator().manual_seed(4)
    samples, validation, test = (torch.randn(n, 2, generator=g) for n in (3000, 300, 1000))
    figures = parzen(samples, validation, test)
    entropy = 1.0 + math.log(2 * math.pi)  # -E log N(x; 0, I) in 2-D
    assert figures["log_likelihood"] == pytest.approx(-entropy, abs=0.1)
    assert 0 < figures["standard_error"] < 0.05
    assert 0.05 < figures["sigma"] < 0.6


def test_parzen_metric_on_a_mixture_generator():
    options = {"parzen": {"test_points": 300, "validation_points": 300}}
    figures = evaluate(mixture_context("ring8"), ["parzen"], options=options)
    figures = figures["parzen"]
    assert figures["test_points"] == 300 and math.isfinite(figures["log_likelihood"])


# ---------------------------------------------------------------- classifier metrics (8x8 digits)
class ReplayGenerator(nn.Module):
    """Returns real images as if generated: in order (unconditional), or the next image of each asked class."""

    def __init__(self, images, labels=None, *, conditional=False) -> None:
        super().__init__()
        self.images, self.labels = images, labels
        self.latent_dim, self.num_classes = 2, (10 if conditional else 0)
        self.anchor = nn.Parameter(torch.zeros(()))
        self.position = 0
        self.next_of = {}

    def forward(self, z, c=None):
        if c is None:
            index = (torch.arange(len(z)) + self.position) % len(self.images)
            self.position += len(z)
            return self.images[index]
        out = []
        for label in c.tolist():
            pool = (self.labels == label).nonzero().flatten()
            k = self.next_of.get(label, 0)
            self.next_of[label] = k + 1
            out.append(self.images[pool[k % len(pool)]])
        return torch.stack(out)


DIGITS = {"name": "digits", "image_size": 8}


@pytest.fixture(scope="module")
def digits_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("classifier-cache")


def digits_context(generator, cache, *, n=360) -> EvalContext:
    card = card_for(DIGITS, shape=(1, 8, 8), num_classes=generator.num_classes, latent_dim=2)
    return EvalContext(generator, card, n=n, cache_dir=cache)


def real_test(cache):
    probe = digits_context(ReplayGenerator(torch.zeros(1, 1, 8, 8)), cache)
    return probe.real("test")


def test_conditional_accuracy_of_real_test_images_is_the_classifiers_accuracy(digits_cache):
    x, y = real_test(digits_cache)
    context = digits_context(ReplayGenerator(x, y, conditional=True), digits_cache, n=len(x))
    metric = build_metric("conditional-accuracy", FAST_CLASSIFIER)
    classifier = metric.classifier(context)
    assert classifier_module.accuracy(classifier, x, y) == pytest.approx(classifier.test_accuracy)
    assert classifier.test_accuracy > 0.8, classifier.meta
    figures = metric.compute(context)
    assert figures["classifier_test_accuracy"] == classifier.test_accuracy
    assert figures["accuracy"] == pytest.approx(classifier.test_accuracy, abs=0.03)  # balanced vs real labels


def test_the_classifier_is_trained_once_then_read_from_the_cache(digits_cache):
    x, y = real_test(digits_cache)
    context = digits_context(ReplayGenerator(x, y, conditional=True), digits_cache)
    first = build_metric("conditional-accuracy", FAST_CLASSIFIER).classifier(context)
    trained, mtime = classifier_module.TRAINED["count"], first.path.stat().st_mtime_ns
    again = build_metric("classifier-fd", FAST_CLASSIFIER).classifier(context)  # another metric, same options
    assert classifier_module.TRAINED["count"] == trained
    assert again.path == first.path and again.path.stat().st_mtime_ns == mtime
    assert again.path.parent == digits_cache / "classifiers" and again.path.name.startswith("digits-")


def test_real_test_images_sit_at_the_frechet_floor_and_cover_every_class(digits_cache):
    x, _ = real_test(digits_cache)
    context = digits_context(ReplayGenerator(x), digits_cache, n=len(x))
    results = evaluate(context, ["classifier-fd", "class-coverage"],
                       options={"classifier-fd": FAST_CLASSIFIER, "class-coverage": FAST_CLASSIFIER})
    fd = results["classifier-fd"]
    assert fd["fd"] == pytest.approx(fd["fd_floor"]) and fd["fd_ratio"] == pytest.approx(1.0)
    assert results["class-coverage"]["classes"] == 10


def test_a_generator_of_one_class_covers_one_class(digits_cache):
    x, y = real_test(digits_cache)
    metric = build_metric("class-coverage", FAST_CLASSIFIER)
    probe = digits_context(ReplayGenerator(x), digits_cache)
    threes = x[(y == 3) & (metric.classifier(probe).predict(x) == 3)]  # threes that the judge reads as 3
    context = digits_context(ReplayGenerator(threes), digits_cache)
    figures = evaluate(context, ["class-coverage"], options={"class-coverage": FAST_CLASSIFIER})["class-coverage"]
    assert figures["classes"] == 1
    assert figures["reverse_kl"] > 1.5


def test_default_metrics_follow_the_data_and_the_conditioning(digits_cache, monkeypatch, tmp_path):
    x, y = real_test(digits_cache)
    assert default_metrics(mixture_context("ring8")) == ["mode-coverage"]
    conditional = digits_context(ReplayGenerator(x, y, conditional=True), digits_cache)
    assert default_metrics(conditional) == ["classifier-fd", "conditional-accuracy", "duplicates", "intra-class",
                                            "prdc"]
    unconditional = digits_context(ReplayGenerator(x), digits_cache)
    assert default_metrics(unconditional) == ["class-coverage", "classifier-fd", "duplicates", "prdc"]
    monkeypatch.setenv("GANZOO_INCEPTION_WEIGHTS", str(tmp_path / "weights.pth"))
    fidelity = {"fid", "isc", "kid", "prc"}  # fid alone by default, and only with torch-fidelity installed
    installed = importlib.util.find_spec("torch_fidelity") is not None
    assert fidelity & set(default_metrics(unconditional)) == ({"fid"} if installed else set())
    assert not fidelity & set(default_metrics(mixture_context("ring8")))


def test_a_metric_that_does_not_fit_says_why_in_one_line():
    # the registration's data_kinds, enforced before the metric runs
    with pytest.raises(GanzooError, match="'conditional-accuracy' takes image data, but the dataset gives flat"):
        evaluate(mixture_context("ring8"), ["conditional-accuracy"])
    unknown = EvalContext(MixtureGenerator(SimpleNamespace(num_modes=1)), card_for(None, shape=(2,)))
    with pytest.raises(GanzooError, match="carry no recipe"):
        evaluate(unknown, ["parzen"])


# ---------------------------------------------------------------- torch-fidelity metrics (never download)
def test_fid_without_weights_is_one_clear_error(digits_cache):
    with pytest.raises(GanzooError, match="never downloads"):
        evaluate(digits_context(ReplayGenerator(torch.zeros(1, 1, 8, 8)), digits_cache), ["fid"])


def test_fid_with_a_missing_weights_file(tmp_path, digits_cache):
    context = digits_context(ReplayGenerator(torch.zeros(1, 1, 8, 8)), digits_cache)
    with pytest.raises(GanzooError, match="does not exist"):
        evaluate(context, ["fid"], options={"fid": {"weights": str(tmp_path / "none.pth")}})


# ---------------------------------------------------------------- evaluation during training
def test_the_training_callback_logs_figures_and_leaves_the_random_state_alone(tmp_path):
    context = mixture_context("ring8")
    rows = []
    view = StepView(step=4, total=10, generator=context.generator, log_row=rows.append,
                    run_folder=RunFolder(tmp_path), device=torch.device("cpu"), is_main_process=True, card=context.card)
    callback = EvalCallback(EvalOptions(every=4, samples=300))
    state = torch.get_rng_state()
    callback(view)
    assert torch.equal(state, torch.get_rng_state())
    assert rows and rows[0]["mode-coverage/modes"] == 8
    callback(attrs.evolve(view, step=5))
    assert len(rows) == 1  # not due
