"""One sampler (ganzoo/sampling.py): ``ganzoo sample``, ``ganzoo.sample``, the trainer's sample grids and
evaluation draw the same samples for the same seed and class."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers_training import set_args, tiny

import ganzoo
from ganzoo.cli.main import main
from ganzoo.evaluation import EvalContext
from ganzoo.sampling import class_labels
from ganzoo.weights import load_generator

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def conditional_run(tmp_path_factory):
    """cdcgan-digits, 2 tiny steps (conditional, BatchNorm, an EMA generator), its final grid kept."""
    run_dir = tmp_path_factory.mktemp("sampling") / "run"
    torch.set_num_threads(1)
    assert main(["run", "cdcgan-digits", *set_args(tiny("cdcgan-digits", steps=2)), "--out", str(run_dir),
                 "--quiet"]) == 0
    return run_dir


def cli_samples(run_dir, tmp_path, *args: str) -> np.ndarray:
    out = tmp_path / "x.npy"
    assert main(["sample", str(run_dir), *args, "--out", str(out)]) == 0
    return np.load(out)


def test_cli_and_api_give_identical_samples_for_a_seed_and_class(conditional_run, tmp_path):
    from_cli = cli_samples(conditional_run, tmp_path, "--seed", "0", "--class", "3", "-n", "8")
    x, c = ganzoo.sample(conditional_run, 8, seed=0, label=3)
    assert from_cli.shape == (8, 1, 16, 16)
    assert np.array_equal(from_cli, x.numpy())
    assert c.tolist() == [3] * 8
    other = cli_samples(conditional_run, tmp_path, "--seed", "1", "--class", "3", "-n", "8")
    assert not np.array_equal(other, from_cli)  # the seed matters: the equality above is not vacuous


def test_cli_and_api_agree_without_a_class_too(conditional_run, tmp_path):
    """Every class in equal blocks, the same layout for both (and the grid's: one row per class)."""
    from_cli = cli_samples(conditional_run, tmp_path, "--seed", "5", "-n", "20")
    x, c = ganzoo.sample(conditional_run, 20, seed=5)
    assert np.array_equal(from_cli, x.numpy())
    assert c.tolist() == [i * 10 // 20 for i in range(20)] == class_labels(20, 10).tolist()


def test_the_trainers_last_grid_is_what_the_sampler_draws_from_the_recipe_seed(tmp_path):
    class Grids:
        def on_samples(self, step, path, samples):
            self.last = samples.detach().cpu()

    grids = Grids()
    recipe = ganzoo.load_recipe("cdcgan-digits", tiny("cdcgan-digits", steps=2))  # grid_size 8: 10 classes x 1
    trainer = ganzoo.api.build_trainer(recipe, tmp_path / "run", quiet=True)
    trainer.outputs.observers.append(grids)
    trainer.fit()
    x, c = ganzoo.sample(tmp_path / "run", len(grids.last), seed=recipe.seed, model_units=True)
    assert len(x) == 10 and c.tolist() == list(range(10))
    assert torch.equal(x, grids.last.float())


def test_evaluation_draws_what_the_api_draws(conditional_run):
    generator = load_generator(conditional_run)
    context = EvalContext(generator, generator.card, n=30, seed=4, device="cpu")
    x, c = context.samples()
    api_x, api_c = ganzoo.sample(conditional_run, 30, seed=4, model_units=True)
    assert torch.equal(x, api_x) and torch.equal(c, api_c)
