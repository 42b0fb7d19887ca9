"""Weights load into what the generator contract (ganzoo.contracts.Generator) names: a registered generator
whose module has no ``latent_dim`` is refused in one line naming the file, and the file's ``latent_dim`` is
held to the module's."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from helpers_training import assert_one_line_error
from torch import nn

import ganzoo
from ganzoo.cli.main import main
from ganzoo.testing import registered_plugin
from ganzoo.weights import ModelCard, save_weights


class _NoLatentDim(nn.Module):
    def __init__(self, options: object, *, shape: tuple[int, ...], num_classes: int = 0) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.net = nn.Linear(3, shape[0])

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return torch.tanh(self.net(z))


class _LatentDimThree(_NoLatentDim):
    latent_dim = 3


PLUGIN = SimpleNamespace(register_generators=ganzoo.hookimpl(lambda register: [
    register("no-latent", _NoLatentDim, description="no latent_dim", data_kinds=("flat",)),
    register("latent-three", _LatentDimThree, description="latent_dim 3", data_kinds=("flat",)),
]))


@pytest.mark.parametrize("component, card_latent_dim, says", [
    ("no-latent", 3, "builds a generator without latent_dim or num_classes (see ganzoo.contracts.Generator)"),
    ("latent-three", 2, "ganzoo.latent_dim: got 2; the generator takes 3"),
])
def test_weights_whose_generator_breaks_the_contract_fail_in_one_line(tmp_path, capsys, component,
                                                                       card_latent_dim, says):
    path = tmp_path / "generator.safetensors"
    out = tmp_path / "samples.npy"
    card = ModelCard(role="generator", component=component, plugin="contract-test", options={}, shape=(2,),
                     num_classes=0, latent_dim=card_latent_dim)
    with registered_plugin(PLUGIN, name="contract-test"):
        save_weights(_NoLatentDim(None, shape=(2,)), path, card)
        code = main(["sample", str(path), "-n", "4", "--out", str(out)])
    assert code == 2
    assert_one_line_error(capsys.readouterr().err, str(path), says)
    assert not out.exists()


def test_weights_whose_generator_keeps_the_contract_sample(tmp_path, capsys):
    path = tmp_path / "generator.safetensors"
    out = tmp_path / "samples.npy"
    card = ModelCard(role="generator", component="latent-three", plugin="contract-test", options={}, shape=(2,),
                     num_classes=0, latent_dim=3)
    with registered_plugin(PLUGIN, name="contract-test"):
        save_weights(_LatentDimThree(None, shape=(2,)), path, card)
        assert main(["sample", str(path), "-n", "4", "--out", str(out)]) == 0, capsys.readouterr().err
    assert out.is_file()
