"""Self-conditioning: G and D conditioned on k-means clusters of the training images (``clusters = K``), the
trained model sampled and judged as an unconditional one, its clusters drawn by their training frequencies."""

from __future__ import annotations

import json

import pytest
import torch
from helpers_training import assert_one_line_error, assert_same_tensors, set_args, tiny
from safetensors import safe_open

from ganzoo.api import build_trainer, run_recipe
from ganzoo.cli.main import main
from ganzoo.clusters import cluster_data, features, kmeans
from ganzoo.errors import GanzooError
from ganzoo.recipe import load_recipe
from ganzoo.sampling import class_labels
from ganzoo.weights import load_generator

pytestmark = pytest.mark.usefixtures("one_thread")

CLUSTERED = ["conditional=false", "clusters=4"]


def clustered_sets(steps: int = 4, **kw) -> list[str]:
    return tiny("cdcgan-digits", steps=steps, **kw) + CLUSTERED


def test_kmeans_finds_separated_groups_numbers_them_by_size_and_repeats_itself() -> None:
    torch.manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    sizes = [20, 50, 30]
    points = torch.cat([c + 0.3 * torch.randn(n, 2) for c, n in zip(centres, sizes)])
    labels = kmeans(points, 3)
    truth = torch.cat([torch.full((n,), i) for i, n in enumerate(sizes)])
    # each true group is one cluster, and cluster 0 is the largest group (50), 1 the next (30), 2 the smallest
    assert torch.equal(labels, torch.tensor([2, 0, 1])[truth])
    assert torch.equal(kmeans(points, 3), labels)
    with pytest.raises(ValueError, match="allowed: 1..100"):
        kmeans(points, 101)


def test_k_equal_to_the_points_puts_each_point_alone() -> None:
    points = torch.tensor([[0.0], [0.1], [1.0], [5.0]])
    assert sorted(kmeans(points, 4).tolist()) == [0, 1, 2, 3]


def test_images_are_pooled_to_8x8_before_clustering_and_points_are_kept() -> None:
    assert features(torch.randn(5, 3, 32, 32)).shape == (5, 3 * 64)
    assert features(torch.randn(5, 1, 8, 8)).shape == (5, 64)
    points = torch.randn(5, 2)
    assert torch.equal(features(points), points)


def test_sampling_follows_the_prior_in_blocks() -> None:
    labels = class_labels(100, 3, prior=(0.5, 0.3, 0.2))
    assert torch.equal(labels, torch.tensor([0] * 50 + [1] * 30 + [2] * 20))
    assert torch.equal(class_labels(9, 3), torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 2]))  # no prior: equal blocks
    assert torch.equal(class_labels(4, 3, label=2, prior=(0.5, 0.3, 0.2)), torch.full((4,), 2))


def test_the_clusters_replace_the_labels_and_come_from_the_images_alone() -> None:
    recipe = load_recipe("cdcgan-digits", ["conditional=false", "clusters=10"])
    assert recipe.num_classes == 10 and not recipe.conditional
    from ganzoo.build import make

    data = make("dataset", recipe.data.name, recipe.data.options, split="train")
    clustered = cluster_data(data, 10)
    x, y = clustered.tensors()
    assert x is data.tensors()[0] and clustered.info.num_classes == 10
    counts = torch.bincount(y, minlength=10)
    assert counts.min() > 0 and torch.all(counts[:-1] >= counts[1:])  # numbered by falling size
    assert abs(sum(clustered.prior) - 1) < 1e-9 and clustered.prior[0] == float(counts[0]) / len(y)
    # the clusters follow the digits' shapes: most of each cluster is one digit (k-means on pixels is no
    # classifier, but far from chance, which would put 10% of a cluster in its commonest class)
    digit = data.tensors()[1]
    purity = sum(int(torch.bincount(digit[y == k]).max()) for k in range(10)) / len(y)
    assert purity > 0.6
    unlabelled = type("Unlabelled", (), {"tensors": lambda self: (x, None)})()
    assert torch.equal(cluster_data(unlabelled, 10).labels, y)  # the labels are never read


def test_a_self_conditioned_run_saves_the_prior_and_is_judged_unconditional(tmp_path, capsys) -> None:
    run = tmp_path / "run"
    assert main(["run", "cdcgan-digits", *set_args(clustered_sets()), "--out", str(run), "--quiet"]) == 0
    with safe_open(str(run / "generator-ema.safetensors"), "pt") as f:
        meta = f.metadata()
    prior = json.loads(meta["ganzoo.label_prior"])
    assert len(prior) == 4 and abs(sum(prior) - 1) < 1e-9 and json.loads(meta["ganzoo.num_classes"]) == 4
    assert json.loads(meta["ganzoo.recipe"])["clusters"] == 4
    generator = load_generator(run)
    assert generator.card.clustered and generator.card.label_prior == tuple(prior)

    capsys.readouterr()
    assert main(["eval", str(run), "-n", "200", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)["metrics"]
    # unconditional figures against the digits' own classes; none that compares a cluster with a digit
    assert "class-coverage" in figures and "classifier-fd" in figures
    assert "conditional-accuracy" not in figures and "intra-class" not in figures

    out = tmp_path / "x.npy"
    assert main(["sample", str(run), "-n", "40", "--out", str(out)]) == 0
    assert main(["sample", str(run), "-n", "40", "--out", str(tmp_path / "all.png")]) == 0
    from PIL import Image

    width, height = Image.open(tmp_path / "all.png").size  # a plain grid, not a row per cluster (4 rows of 10)
    assert abs(width - height) <= width // 5, (width, height)
    assert main(["sample", str(run), "--class", "3", "-n", "4", "--out", str(tmp_path / "c3.png")]) == 0
    capsys.readouterr()
    assert main(["sample", str(run), "--guide", "drs", "-n", "4", "--out", str(tmp_path / "g.png")]) == 2
    assert_one_line_error(capsys.readouterr().err, "self-conditioned on 4 clusters", "drop --guide")


def test_resume_recomputes_the_same_clusters_bit_for_bit(tmp_path) -> None:
    recipe = load_recipe("cdcgan-digits", clustered_sets(steps=6, checkpoint_every=2))
    full = run_recipe(recipe, out=tmp_path / "full", quiet=True).run_dir
    first = build_trainer(recipe, tmp_path / "half", quiet=True)
    first.fit(until=3)
    del first
    second = build_trainer(recipe, tmp_path / "half", quiet=True)
    assert second.resume() == 3
    second.fit()
    for name in ("generator.safetensors", "generator-ema.safetensors", "discriminator.safetensors"):
        assert_same_tensors(full / name, tmp_path / "half" / name)


@pytest.mark.parametrize("recipe, sets, says", [
    ("cdcgan-digits", ["clusters=4"], "clusters: is 4 with conditional = true"),
    ("cdcgan-digits", ["conditional=false", "clusters=5000"], "holds 1437 samples; allowed: 1..1437"),
    ("dcgan-digits", ["clusters=-1"], "clusters"),
])
def test_bad_clusters_are_one_line_errors(recipe: str, sets: list[str], says: str, tmp_path, capsys) -> None:
    assert main(["run", recipe, *set_args(tiny(recipe, steps=1) + sets), "--out", str(tmp_path / "r"), "--quiet"]) == 2
    assert_one_line_error(capsys.readouterr().err, says)


def test_data_given_item_by_item_cannot_be_clustered() -> None:
    from torch.utils.data import TensorDataset

    with pytest.raises(GanzooError, match="clusters = 3 needs a dataset held in memory .* offers neither"):
        cluster_data(TensorDataset(torch.randn(10, 2)), 3)


def test_an_endless_source_is_clustered_on_a_fixed_draw_and_labelled_by_the_nearest_centre() -> None:
    from ganzoo.build import make

    recipe = load_recipe("vanilla-ring8", ["clusters=8"])
    assert recipe.num_classes == 8
    ring = make("dataset", recipe.data.name, recipe.data.options, split="train")
    clustered = cluster_data(ring, 8)
    assert clustered.info.num_classes == 8 and clustered.info.shape == ring.info.shape
    assert all(abs(share - 1 / 8) < 0.02 for share in clustered.prior)  # eight equal modes, one cluster each
    angles = torch.atan2(clustered.centres[:, 1], clustered.centres[:, 0])
    steps = torch.diff(angles.sort().values)
    assert torch.allclose(steps, torch.full_like(steps, torch.pi / 4), atol=0.02)  # one centre per mode
    x, labels = clustered.sample(500, torch.Generator().manual_seed(1))
    assert torch.equal(labels, torch.cdist(x, clustered.centres).argmin(dim=1))
    again = cluster_data(ring, 8)
    assert torch.equal(again.centres, clustered.centres)  # a fixed draw: a resume finds the same centres


def test_a_self_conditioned_ring_trains_and_samples_every_cluster(tmp_path, capsys) -> None:
    run = tmp_path / "run"
    sets = tiny("vanilla-ring8", steps=4) + ["clusters=8"]
    assert main(["run", "vanilla-ring8", *set_args(sets), "--out", str(run), "--quiet"]) == 0
    generator = load_generator(run)
    assert generator.card.clustered and len(generator.card.label_prior) == 8
    capsys.readouterr()
    assert main(["eval", str(run), "-n", "400", "--json"]) == 0
    assert "mode-coverage" in json.loads(capsys.readouterr().out)["metrics"]


def test_a_resume_may_not_change_the_clusters(tmp_path, capsys) -> None:
    run = tmp_path / "run"
    sets = clustered_sets(steps=2, checkpoint_every=1)
    assert main(["run", "cdcgan-digits", *set_args(sets), "--out", str(run), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["run", "--resume", str(run), "--set", "clusters=5", "--quiet"]) == 2
    assert_one_line_error(capsys.readouterr().err, "clusters")


def test_a_card_whose_prior_does_not_fit_its_classes_is_refused(tmp_path) -> None:
    from ganzoo.weights import ModelCard, WeightsError

    card = ModelCard(role="generator", component="dcgan", plugin=None, options={}, shape=(1, 8, 8), num_classes=3,
                     label_prior=(0.5, 0.5, 0.0))
    metadata = card.to_metadata()
    assert ModelCard.from_metadata(metadata, "f").label_prior == (0.5, 0.5, 0.0)
    for bad in ("[0.5,0.5]", "[0.5,0.6,0.1]"):
        with pytest.raises(WeightsError, match="label_prior: got .* expected 3"):
            ModelCard.from_metadata({**metadata, "ganzoo.label_prior": bad}, "f")
    plain = ModelCard(role="generator", component="dcgan", plugin=None, options={}, shape=(1, 8, 8), num_classes=3)
    assert "ganzoo.label_prior" not in plain.to_metadata()  # weights of models without clusters are unchanged
    with pytest.raises(GanzooError):
        ModelCard.from_metadata({**metadata, "ganzoo.label_prior": "[0.5,0.5,-1]"}, "f")


def test_the_hub_card_of_a_self_conditioned_model_calls_it_unconditional() -> None:
    from ganzoo.export import model_card
    from ganzoo.weights import ModelCard

    card = ModelCard(role="generator-ema", component="dcgan", plugin=None, options={}, shape=(1, 16, 16),
                     num_classes=2, label_prior=(0.6, 0.4), recipe={"name": "dcgan-digits", "data": {"name": "digits"}})
    text = model_card(card, "generator-ema.safetensors", None, False, license="mit", repo_id="a/b")
    assert "unconditional, self-conditioned on 2 clusters" in text
    assert "pipeline_tag: unconditional-image-generation" in text
    assert "class-conditional" not in text and "--class 3" not in text
