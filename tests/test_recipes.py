"""Recipe validation: every malformed recipe is one line naming the file and the field, exit 2, no traceback.

Uses the built-in plugins (``ring8``, ``digits``, ``mlp``, ``dcgan``, ``non-saturating``), as a user would.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from ganzoo.cli.main import main
from ganzoo.recipe import load_recipe

RING_MLP: dict[str, Any] = {
    "seed": 1,
    "data": {"name": "ring8"},
    "generator": {"name": "mlp", "latent_dim": 8},
    "discriminator": {"name": "mlp"},
    "loss": {"name": "non-saturating"},
    "train": {"steps": 10, "batch_size": 16},
    "optim": {"generator": {"lr": 1e-3, "betas": [0.5, 0.9]}},
}

DIGITS_DCGAN: dict[str, Any] = {
    "conditional": True,
    "data": {"name": "digits", "image_size": 32},
    "generator": {"name": "dcgan"},
    "discriminator": {"name": "dcgan"},
    "loss": {"name": "non-saturating"},
    "train": {"steps": 5},
}

VALID = {"ring8-mlp": RING_MLP, "cdcgan-digits": DIGITS_DCGAN}


def variant(base: dict[str, Any] = RING_MLP, *, drop: tuple[str, ...] = (), **changes: Any) -> str:
    """``base`` as TOML with sections dropped and keys changed (tables merge one level deep)."""
    raw = copy.deepcopy(base)
    for section in drop:
        del raw[section]
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict):
            raw[key].update(value)
        else:
            raw[key] = value
    return tomli_w.dumps(raw)


def case(id: str, text: str | None, field: str | None, *, sets: tuple[str, ...] = (), says: str = ""):
    """A malformed recipe (``text`` None: no file at all) and what its one error line must contain."""
    return pytest.param(text, sets, field, says, id=id)


MALFORMED = [
    case("unknown-section", variant(extras={"x": 1}), "extras", says="allowed: name"),
    case("unknown-top-level-key", variant(seeed=3), "seeed"),
    case("unknown-key-in-section", variant(train={"stepz": 3}), "train.stepz", says="allowed keys: steps"),
    case("unknown-key-in-component", variant(generator={"latent_dimm": 8}), "generator.latent_dimm",
         says="latent_dim"),
    case("unknown-key-in-optimizer", variant(optim={"generator": {"beta": 0.5}}), "optim.generator.beta"),
    case("string-for-int", variant(train={"batch_size": "64"}), "train.batch_size", says="expected an integer"),
    case("float-for-int", variant(train={"steps": 10.5}), "train.steps", says="expected an integer"),
    case("int-for-bool", variant(conditional=1), "conditional", says="expected true or false"),
    case("string-for-float", variant(optim={"generator": {"lr": "fast"}}), "optim.generator.lr"),
    case("int-for-list", variant(optim={"generator": {"betas": 5}}), "optim.generator.betas"),
    case("negative-steps", variant(train={"steps": -5}), "train.steps", says="must be >= 1"),
    case("zero-lr", variant(optim={"discriminator": {"lr": 0}}), "optim.discriminator.lr", says="must be > 0"),
    case("beta-above-1", variant(optim={"generator": {"betas": [0.5, 1.5]}}), "optim.generator.betas",
         says="must be <= 1"),
    case("negative-component-option", variant(generator={"latent_dim": 0}), "generator.latent_dim"),
    case("not-a-choice", variant(train={"device": "tpu"}), "train.device", says="'cpu'"),
    case("unknown-generator", variant(generator={"name": "mpl"}), "generator.name", says="did you mean 'mlp'"),
    case("unknown-dataset", variant(data={"name": "rign8"}), "data.name", says="did you mean 'ring8'"),
    case("unknown-loss", variant(loss={"name": "non-saturatin"}), "loss.name",
         says="did you mean 'non-saturating'"),
    case("missing-section", variant(drop=("loss",)), "loss", says="missing required section"),
    case("component-not-a-table", variant(loss="hinge"), "loss", says="expected a table"),
    case("missing-component-name", variant(discriminator={"dropout": 0.1}, drop=("discriminator",)),
         "discriminator.name", says="missing required field"),
    case("conditional-unlabelled-data", variant(conditional=True), "conditional", says="no class labels"),
    case("dcgan-unsupported-size", variant(DIGITS_DCGAN, data={"image_size": 48}), "generator.name",
         says="8, 16, 28, 32, 64, 128"),
    case("dcgan-flat-data", variant(generator={"name": "dcgan"}), "generator.name", says="takes image data"),
    case("unknown-metric", variant(eval={"metrics": ["fdi"]}), "eval.metrics[0]", says="unknown metric 'fdi'"),
    case("invalid-toml", "[train\nsteps = 3\n", None, says="not valid TOML"),
    case("set-without-equals", variant(), "train.steps", sets=("train.steps",), says="is not KEY=VALUE"),
    case("set-wrong-type", variant(), "train.steps", sets=("train.steps=many",), says="got 'many'"),
    case("set-into-a-value", variant(), "train.steps", sets=("train.steps.x=1",), says="is not a table"),
    case("nonexistent-file", None, None, says="no such recipe file"),
]


def write(tmp_path: Path, text: str | None, name: str = "recipe.toml") -> Path:
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    return path


def validate_args(path: Path, sets: tuple[str, ...]) -> list[str]:
    return ["validate", str(path), *(arg for text in sets for arg in ("--set", text))]


def assert_one_line_error(err: str, out: str, path: Path, field: str | None, says: str) -> None:
    lines = err.splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith(f"ganzoo: error: {path}"), line
    if field is not None:
        assert f": {field}: " in line, line
    assert says in line, line
    assert "Traceback" not in err + out
    assert not out.strip()


@pytest.mark.parametrize("text, sets, field, says", MALFORMED)
def test_malformed_recipe_is_one_line_exit_2(tmp_path, capsys, text, sets, field, says):
    path = write(tmp_path, text)
    assert main(validate_args(path, sets)) == 2
    captured = capsys.readouterr()
    assert_one_line_error(captured.err, captured.out, path, field, says)


SUBPROCESS_CASES = ("unknown-generator", "invalid-toml", "set-wrong-type")


@pytest.mark.parametrize(
    "text, sets, field, says", [param for param in MALFORMED if param.id in SUBPROCESS_CASES]
)
def test_malformed_recipe_in_a_real_process_shows_no_traceback(tmp_path, text, sets, field, says):
    path = write(tmp_path, text)
    env = {key: value for key, value in os.environ.items() if not key.startswith("GANZOO_")}
    result = subprocess.run(
        [sys.executable, "-m", "ganzoo.cli.main", *validate_args(path, sets)],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert result.returncode == 2
    assert_one_line_error(result.stderr, result.stdout, path, field, says)


@pytest.mark.parametrize("raw", VALID.values(), ids=VALID.keys())
def test_valid_recipe_passes(tmp_path, capsys, raw):
    path = write(tmp_path, tomli_w.dumps(raw))
    assert main(["validate", str(path)]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith(f"ok: {path}:")
    assert captured.err == ""


def test_valid_recipe_resolves_data_shape_and_classes(tmp_path):
    recipe = load_recipe(write(tmp_path, tomli_w.dumps(DIGITS_DCGAN)))
    assert recipe.data_info.shape == (1, 32, 32)
    assert recipe.num_classes == 10
    assert recipe.name == "recipe"  # the file's name when the recipe gives none


def test_one_bad_recipe_among_good_ones_fails_alone(tmp_path, capsys):
    good = write(tmp_path, variant(), "good.toml")
    bad = write(tmp_path, variant(train={"steps": 0}), "bad.toml")
    assert main(["validate", str(good), str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out.startswith(f"ok: {good}:")
    assert_one_line_error(captured.err, "", bad, "train.steps", "must be >= 1")


def test_set_changes_a_value(tmp_path):
    path = write(tmp_path, variant())
    assert load_recipe(path).train.steps == 10
    assert load_recipe(path, ["train.steps=7"]).train.steps == 7


def test_set_reads_toml_values_and_creates_tables(tmp_path):
    path = write(tmp_path, variant())
    recipe = load_recipe(path, ["optim.discriminator.betas=[0.0, 0.9]", "eval.samples=100"])
    assert recipe.optim.discriminator.betas == (0.0, 0.9)
    assert recipe.eval.samples == 100


def test_set_through_the_cli(tmp_path, capsys):
    path = write(tmp_path, variant(train={"steps": -1}))
    assert main(["validate", str(path), "--set", "train.steps=3"]) == 0
    assert capsys.readouterr().out.startswith(f"ok: {path} (with --set):")


@pytest.mark.parametrize("raw", VALID.values(), ids=VALID.keys())
def test_to_dict_round_trips_through_toml(tmp_path, raw):
    recipe = load_recipe(write(tmp_path, tomli_w.dumps(raw)))
    resolved = recipe.to_dict()
    again = load_recipe(write(tmp_path, tomli_w.dumps(resolved), "resolved.toml"))
    assert again.to_dict() == resolved
    assert again.train == recipe.train and again.optim == recipe.optim
    assert again.generator == recipe.generator and again.data_info == recipe.data_info
