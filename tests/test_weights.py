"""Self-describing weights and ``ganzoo sample``: metadata, reproducible samples, clear errors, no pickle."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
import torch
from helpers_training import assert_one_line_error, run_cli, tiny
from safetensors import safe_open
from safetensors.torch import save_file

import ganzoo
from ganzoo.api import run_recipe
from ganzoo.cli.main import main
from ganzoo.weights import find_weights
from ganzoo.recipe import load_recipe
from ganzoo.training import checkpoint
from ganzoo.weights import ModelCard, save_weights

CARD_KEYS = ("role", "component", "plugin", "options", "shape", "num_classes", "latent_dim", "step", "recipe",
             "version")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two tiny finished runs, shared by this module's tests: conditional dcgan (EMA) and unconditional mlp."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        root = tmp_path_factory.mktemp("runs")
        made = {}
        for name in ("cdcgan-digits", "vanilla-ring8"):
            made[name] = run_recipe(load_recipe(name, tiny(name, steps=2)), out=root / name, quiet=True).run_dir
        return made
    finally:
        torch.set_num_threads(threads)


def metadata(path):
    with safe_open(str(path), framework="pt") as handle:
        return handle.metadata()


@pytest.mark.parametrize("role", ["generator", "generator-ema", "discriminator"])
def test_weights_metadata_is_ganzoo_json(runs, role):
    meta = metadata(runs["cdcgan-digits"] / f"{role}.safetensors")
    values = {key.removeprefix("ganzoo."): json.loads(text) for key, text in meta.items()}
    assert all(key.startswith("ganzoo.") for key in meta)
    assert set(CARD_KEYS) <= set(values)
    assert values["role"] == role
    assert values["component"] == "dcgan" and values["plugin"] == "dcgan"
    assert values["options"]["width"] == 8
    assert values["shape"] == [1, 16, 16] and values["num_classes"] == 10
    assert values["latent_dim"] == (64 if role != "discriminator" else None)
    assert values["step"] == 2
    assert values["recipe"]["name"] == "cdcgan-digits" and values["recipe"]["train"]["steps"] == 2
    assert values["version"] == ganzoo.__version__


def test_unconditional_metadata(runs):
    meta = {k.removeprefix("ganzoo."): json.loads(v) for k, v in metadata(runs["vanilla-ring8"] / "generator.safetensors").items()}
    assert meta["component"] == "mlp" and meta["shape"] == [2] and meta["num_classes"] == 0
    assert meta["options"]["hidden_dims"] == [16]


def test_weights_and_checkpoints_load_without_pickle(runs, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("pickle used")

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    G = ganzoo.load_generator(runs["cdcgan-digits"])
    assert G.card.role == "generator-ema"
    state = checkpoint.load_checkpoint(checkpoint.latest_checkpoint(runs["cdcgan-digits"] / "checkpoints"))
    assert state["step"] == 2 and "ema" in state and "opt_d" in state
    folder = runs["cdcgan-digits"]
    assert not [p for p in folder.rglob("*") if p.suffix in (".pt", ".pth", ".pkl", ".bin")]


def expected_samples(run_dir, n=16, seed=3, label=None):
    """What ``ganzoo sample`` promises: load_generator, noise from torch.Generator().manual_seed(seed), and
    the .npy in the data's own units (the transform the weights file records)."""
    G = ganzoo.load_generator(run_dir)
    z = torch.randn(n, G.card.latent_dim, generator=torch.Generator().manual_seed(seed))
    c = None if label is None else torch.full((n,), label, dtype=torch.long)
    with torch.no_grad():
        return G.card.to_data_units(G(z, c)).numpy()


@pytest.mark.slow  # two fresh interpreters
def test_sample_is_reproducible_across_fresh_processes(runs, tmp_path):
    run_dir = runs["vanilla-ring8"]
    outputs = []
    for attempt in ("a", "b"):
        out = tmp_path / f"x-{attempt}.npy"
        result = run_cli("sample", run_dir, "-n", "16", "--seed", "3", "--out", out, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        outputs.append(np.load(out))
    assert outputs[0].shape == (16, 2)
    assert np.array_equal(outputs[0], outputs[1])
    assert np.array_equal(outputs[0], expected_samples(run_dir))


def test_sample_in_process_matches_load_generator(runs, tmp_path, capsys):
    out = tmp_path / "x.npy"
    weights = find_weights(runs["vanilla-ring8"])  # the EMA generator when the run kept one
    assert main(["sample", str(weights), "-n", "16", "--seed", "3", "--out", str(out)]) == 0
    assert np.array_equal(np.load(out), expected_samples(runs["vanilla-ring8"]))
    other = tmp_path / "y.npy"
    assert main(["sample", str(runs["vanilla-ring8"]), "-n", "16", "--seed", "4", "--out", str(other)]) == 0
    assert not np.array_equal(np.load(out), np.load(other))


def test_sample_png_grid(runs, tmp_path, capsys):
    for name in runs:
        out = tmp_path / f"{name}.png"
        assert main(["sample", str(runs[name]), "-n", "20", "--out", str(out)]) == 0
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "wrote 20 samples" in capsys.readouterr().out


def test_sample_one_class_of_a_conditional_model(runs, tmp_path, capsys):
    out = tmp_path / "three.npy"
    assert main(["sample", str(runs["cdcgan-digits"]), "-n", "16", "--seed", "3", "--class", "3",
                 "--out", str(out)]) == 0
    samples = np.load(out)
    assert samples.shape == (16, 1, 16, 16) and np.abs(samples).max() <= 1
    assert np.array_equal(samples, expected_samples(runs["cdcgan-digits"], label=3))


def bad_inputs(runs, tmp_path):
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(np.random.default_rng(0).bytes(1000))
    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    plain = tmp_path / "plain.safetensors"
    save_file({"weight": torch.zeros(3)}, str(plain))
    unknown = tmp_path / "unknown.safetensors"
    card = ModelCard(role="generator", component="no-such-generator", plugin="gone", options={}, shape=(2,),
                     num_classes=0, latent_dim=4)
    save_weights(torch.nn.Linear(4, 2), unknown, card)
    misfit = tmp_path / "misfit.safetensors"
    save_weights(torch.nn.Linear(4, 2), misfit, ModelCard(role="generator", component="mlp", plugin="mlp",
                                                          options={}, shape=(2,), num_classes=0, latent_dim=64))
    cdc, ring = runs["cdcgan-digits"], runs["vanilla-ring8"]
    return {
        "class-on-unconditional": ([ring, "--class", "3"], "unconditional"),
        "class-out-of-range": ([cdc, "--class", "99"], "allowed: 0..9"),
        "negative-class": ([cdc, "--class", "-1"], "allowed: 0..9"),
        "corrupt-file": ([corrupt], "not a readable safetensors file"),
        "empty-file": ([empty], "not a readable safetensors file"),
        "no-ganzoo-metadata": ([plain], "not a ganzoo weights file"),
        "checkpoint-not-weights": ([checkpoint.latest_checkpoint(cdc / "checkpoints")], "not a ganzoo weights file"),
        "discriminator-file": ([cdc / "discriminator.safetensors"], "discriminator"),
        "missing-file": ([tmp_path / "missing.safetensors"], "no such weights file"),
        "folder-without-weights": ([tmp_path], "no generator-ema.safetensors or generator.safetensors"),
        "unknown-component": ([unknown], "no-such-generator"),
        "weights-do-not-fit": ([misfit], "do not fit"),
        "zero-samples": ([ring, "-n", "0"], "-n 0"),
    }


BAD = ["class-on-unconditional", "class-out-of-range", "negative-class", "corrupt-file", "empty-file",
       "no-ganzoo-metadata", "checkpoint-not-weights", "discriminator-file", "missing-file",
       "folder-without-weights", "unknown-component", "weights-do-not-fit", "zero-samples"]


@pytest.mark.parametrize("case", BAD)
def test_sample_bad_input_is_exit_2_one_line(runs, tmp_path, capsys, case):
    args, says = bad_inputs(runs, tmp_path)[case]
    out = tmp_path / "out.npy"
    code = main(["sample", *map(str, args), "--out", str(out)])
    assert code == 2
    assert_one_line_error(capsys.readouterr().err, says)
    assert not out.exists()


def test_sample_unknown_output_format(runs, tmp_path, capsys):
    assert main(["sample", str(runs["vanilla-ring8"]), "--out", str(tmp_path / "x.jpg")]) == 2
    assert_one_line_error(capsys.readouterr().err, "allowed: .png, .npy")


@pytest.mark.slow  # a fresh interpreter
def test_sample_corrupt_file_in_a_real_process_shows_no_traceback(tmp_path):
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(np.random.default_rng(1).bytes(4096))
    result = run_cli("sample", corrupt, "--out", tmp_path / "x.npy", cwd=tmp_path)
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "corrupt.safetensors")
