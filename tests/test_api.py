"""The Python API: build components by name, train on any data form, run recipes, load the result."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from helpers_training import recipe_path, tiny
from torch.utils.data import DataLoader, Dataset, TensorDataset

import ganzoo
from ganzoo.api import RunResult
from ganzoo.recipe import load_recipe

pytestmark = pytest.mark.usefixtures("one_thread")

TINY_RING_RECIPE = {
    "name": "tiny-ring",
    "seed": 3,
    "data": {"name": "ring8"},
    "generator": {"name": "mlp", "latent_dim": 4, "hidden_dims": [16]},
    "discriminator": {"name": "mlp", "hidden_dims": [16]},
    "loss": {"name": "non-saturating"},
    "train": {"steps": 3, "batch_size": 8, "log_every": 1, "grid_size": 8, "device": "cpu"},
}


def mlp_pair(shape=(2,), num_classes=0):
    G = ganzoo.build_generator("mlp", shape=shape, num_classes=num_classes, latent_dim=4, hidden_dims=[16])
    D = ganzoo.build_discriminator("mlp", shape=shape, num_classes=num_classes, hidden_dims=[16])
    return G, D


def test_build_components_by_name():
    G = ganzoo.build_generator("dcgan", shape=(1, 16, 16), num_classes=10, latent_dim=16, width=8)
    D = ganzoo.build_discriminator("dcgan", shape=(1, 16, 16), num_classes=10, width=8)
    assert G.latent_dim == 16 and G.num_classes == 10
    z, c = torch.randn(4, 16), torch.arange(4)
    x = G(z, c)
    assert x.shape == (4, 1, 16, 16) and x.abs().max() <= 1
    assert D(x, c).shape == (4,)
    loss = ganzoo.build_loss("wasserstein")
    assert isinstance(loss, ganzoo.GANLoss) and loss.kind == "critic"
    penalty = ganzoo.build_regularizer("gradient-penalty", weight=10.0)
    assert isinstance(penalty, ganzoo.Regularization) and penalty.weight == 10.0
    data = ganzoo.build_dataset("ring8")
    assert tuple(data.info.shape) == (2,)


def test_build_rejects_unknown_names_and_options():
    with pytest.raises(ganzoo.GanzooError, match="dcgann|no generator"):
        ganzoo.build_generator("dcgann", shape=(1, 16, 16))
    with pytest.raises(ganzoo.GanzooError, match="widht"):
        ganzoo.build_generator("dcgan", shape=(1, 16, 16), widht=8)


class PairDataset(Dataset):
    """A map-style dataset yielding (x, c), as a user's own would."""

    def __init__(self, n=32):
        self.x = torch.rand(n, 2) * 2 - 1
        self.c = torch.arange(n) % 3

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.c[i]


DATA_FORMS = {
    "dataset-component": lambda: ganzoo.build_dataset("ring8"),
    "tensor": lambda: torch.rand(32, 2) * 2 - 1,
    "x-y-pair": lambda: (torch.rand(32, 2) * 2 - 1, torch.arange(32) % 3),
    "dataloader": lambda: DataLoader(TensorDataset(torch.rand(32, 2) * 2 - 1), batch_size=8, shuffle=True),
    "dataloader-x-y": lambda: DataLoader(PairDataset(), batch_size=8, shuffle=True, drop_last=True),
    "tensor-dataset": lambda: TensorDataset(torch.rand(32, 2) * 2 - 1),
    "map-dataset": lambda: PairDataset(),
}


@pytest.mark.parametrize("form", DATA_FORMS)
def test_trainer_on_every_data_form(form):
    G, D = mlp_pair()
    trainer = ganzoo.Trainer(G, D, "non-saturating", DATA_FORMS[form](), steps=3, batch_size=8, quiet=True)
    figures = trainer.fit()
    assert trainer.step == 3 and figures["step"] == 3
    assert math.isfinite(figures["d_loss"]) and math.isfinite(figures["g_loss"])


def test_trainer_conditional_on_labelled_tensors(tmp_path):
    G, D = mlp_pair(num_classes=3)
    data = (torch.rand(32, 2) * 2 - 1, torch.arange(32) % 3)
    trainer = ganzoo.Trainer(G, D, "non-saturating", data, steps=3, batch_size=8, run_dir=tmp_path, quiet=True,
                             grid_size=6)
    trainer.fit()
    assert (tmp_path / "samples" / "step-000003.png").is_file()


def test_conditional_model_on_unlabelled_data_is_a_clear_error():
    G, D = mlp_pair(num_classes=3)
    trainer = ganzoo.Trainer(G, D, "non-saturating", torch.rand(32, 2), steps=2, batch_size=8, quiet=True)
    with pytest.raises(ganzoo.GanzooError, match="no class labels"):
        trainer.fit()


def test_trainer_takes_a_loss_object_and_a_train_options_object():
    from ganzoo.recipe import TrainOptions

    G, D = mlp_pair()
    loss = ganzoo.build_loss("wasserstein")
    trainer = ganzoo.Trainer(G, D, loss, ganzoo.build_dataset("ring8"),
                             train=TrainOptions(steps=2, batch_size=8, d_steps=2), quiet=True,
                             regularizers=[ganzoo.build_regularizer("gradient-penalty", weight=10.0)])
    assert trainer.loss is loss
    figures = trainer.fit()
    assert "penalty" in figures and figures["d_output"] == "raw"
    with pytest.raises(TypeError, match="registered name or a GANLoss"):
        ganzoo.Trainer(G, D, object(), ganzoo.build_dataset("ring8"), steps=1, batch_size=8, quiet=True)
    with pytest.raises(TypeError, match="not both"):
        ganzoo.Trainer(G, D, loss, ganzoo.build_dataset("ring8"), train=TrainOptions(), steps=2, quiet=True)


def test_trainer_rejects_bad_options():
    G, D = mlp_pair()
    with pytest.raises(ganzoo.GanzooError, match="batch_size"):
        ganzoo.Trainer(G, D, "non-saturating", torch.rand(32, 2), steps=1, batch_size=0, quiet=True)
    with pytest.raises(ganzoo.GanzooError, match="stepz"):
        ganzoo.Trainer(G, D, "non-saturating", torch.rand(32, 2), stepz=1, quiet=True)


def test_two_trainers_in_one_process():
    """The accelerator state is a process-wide singleton; each trainer starts clean (bf16, then none)."""
    G1, D1 = mlp_pair()
    first = ganzoo.Trainer(G1, D1, "non-saturating", ganzoo.build_dataset("ring8"), steps=2, batch_size=8,
                           mixed_precision="bf16", device="cpu", quiet=True)
    first.fit()
    G2, D2 = mlp_pair()
    second = ganzoo.Trainer(G2, D2, "minimax", ganzoo.build_dataset("grid25"), steps=2, batch_size=16, quiet=True)
    assert second.accelerator.mixed_precision == "no"
    second.fit()
    assert first.step == second.step == 2
    first.fit()  # the first one is still usable: nothing left to do
    assert first.step == 2


def test_run_recipe_from_a_dict_and_load_the_generator(tmp_path):
    result = ganzoo.run_recipe(TINY_RING_RECIPE, out=tmp_path / "run", quiet=True)
    assert isinstance(result, RunResult) and result.step == 3 and result.run_dir == tmp_path / "run"
    assert result.figures["step"] == 3
    G = ganzoo.load_generator(result.run_dir)
    assert not G.training and G.card.latent_dim == 4 and G.card.recipe["name"] == "tiny-ring"
    with torch.no_grad():
        assert G(torch.randn(5, 4)).shape == (5, 2)
    assert load_recipe(result.run_dir / "recipe.toml").seed == 3


def test_run_recipe_from_a_path_with_overrides(tmp_path):
    result = ganzoo.run_recipe(recipe_path("cdcgan-digits"), overrides=tiny("cdcgan-digits", steps=2),
                               out=tmp_path / "run", quiet=True)
    G = ganzoo.load_generator(result.run_dir)  # the EMA generator of this recipe
    assert G.card.role == "generator-ema" and G.card.num_classes == 10
    with torch.no_grad():
        x = G(torch.randn(10, G.card.latent_dim), torch.arange(10))
    assert x.shape == (10, 1, 16, 16)


def test_run_recipe_from_a_recipe_object_with_the_default_run_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    recipe = load_recipe("vanilla-ring8", tiny("vanilla-ring8", steps=1))
    result = ganzoo.run_recipe(recipe, quiet=True)
    assert result.run_dir.parent == Path("runs")
    assert result.run_dir.name.startswith("vanilla-ring8-")
    assert (tmp_path / result.run_dir / "generator.safetensors").is_file()


def test_trainer_of_built_components_writes_weights_that_load_back(tmp_path):
    """Modules from build_generator/build_discriminator carry their card: the weights rebuild by themselves."""
    G, D = mlp_pair()
    ganzoo.Trainer(G, D, "non-saturating", torch.rand(32, 2), steps=1, batch_size=8, run_dir=tmp_path,
                   quiet=True).fit()
    loaded = ganzoo.load_generator(tmp_path)
    assert loaded.card.component == "mlp" and loaded.card.step == 1 and loaded.card.latent_dim == 4
    assert torch.equal(loaded(torch.ones(3, 4)), G.eval()(torch.ones(3, 4)))


def test_trainer_of_unregistered_modules_writes_weights_that_say_so(tmp_path):
    G, D = mlp_pair()
    del G.card, D.card  # any nn.Module pair: what ganzoo cannot rebuild
    ganzoo.Trainer(G, D, "non-saturating", torch.rand(32, 2), steps=1, batch_size=8, run_dir=tmp_path,
                   quiet=True).fit()
    with pytest.raises(ganzoo.GanzooError, match="not built from a registered component"):
        ganzoo.load_generator(tmp_path)


def test_run_recipe_applies_overrides_to_a_dict_and_refuses_them_on_a_recipe(tmp_path):
    result = ganzoo.run_recipe(TINY_RING_RECIPE, overrides=["train.steps=2", "seed=4"], out=tmp_path / "run",
                               quiet=True)
    assert result.step == 2
    assert load_recipe(result.run_dir / "recipe.toml").seed == 4
    with pytest.raises(TypeError, match="overrides"):
        ganzoo.run_recipe(load_recipe("vanilla-ring8"), overrides=["train.steps=2"], out=tmp_path / "other")


def test_run_recipe_will_not_mix_two_runs_in_one_folder(tmp_path):
    run_dir = tmp_path / "run"
    ganzoo.run_recipe(TINY_RING_RECIPE, out=run_dir, quiet=True)
    metrics = (run_dir / "metrics.jsonl").read_text()
    with pytest.raises(ganzoo.GanzooError, match="already holds a run"):
        ganzoo.run_recipe(TINY_RING_RECIPE, out=run_dir, quiet=True)
    assert (run_dir / "metrics.jsonl").read_text() == metrics
    empty = tmp_path / "empty"
    empty.mkdir()
    assert ganzoo.run_recipe(TINY_RING_RECIPE, out=empty, quiet=True).step == 3  # an empty folder is fine


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a CUDA GPU")
def test_asking_for_cuda_without_a_gpu_is_a_clear_error():
    G, D = mlp_pair()
    with pytest.raises(ganzoo.GanzooError, match="no CUDA GPU is visible"):
        ganzoo.Trainer(G, D, "non-saturating", torch.rand(32, 2), steps=1, batch_size=8, device="cuda", quiet=True)
