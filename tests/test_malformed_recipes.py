"""A corpus of malformed recipes, written from the schema: each one is `ganzoo run FILE --out DIR` (and
`ganzoo validate FILE`) exiting 2 with one line naming the file and the field, no traceback, and nothing
written under --out. Each file is named after what it breaks, so a failure reads as the broken rule.

Most cases run in-process through the CLI's ``main()`` (fast); a handful run as real subprocesses.
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

BASE: dict[str, Any] = {
    "seed": 1,
    "data": {"name": "ring8"},
    "generator": {"name": "mlp", "hidden_dims": [16]},
    "discriminator": {"name": "mlp", "hidden_dims": [16]},
    "loss": {"name": "non-saturating"},
    "train": {"steps": 2, "batch_size": 8, "device": "cpu"},
}
DIGITS = {**BASE, "data": {"name": "digits", "image_size": 16}, "generator": {"name": "dcgan", "width": 8},
          "discriminator": {"name": "dcgan", "width": 8}}
NAN, INF = float("nan"), float("inf")
TMP = "{tmp}"  # replaced by the test's temporary folder (data folders the case sets up)


def toml(base: dict[str, Any] = BASE, *, drop: tuple[str, ...] = (), **changes: Any) -> str:
    """``base`` as TOML with sections dropped and keys changed (tables merge one level deep)."""
    raw = copy.deepcopy(base)
    for section in drop:
        raw.pop(section, None)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict) and "name" not in value:
            raw[key].update(value)
        else:
            raw[key] = value
    return tomli_w.dumps(raw)


def edit(text: str, old: str, new: str) -> str:
    assert old in text, (old, text)
    return text.replace(old, new, 1)


def case(id: str, content: str | bytes, field: str | None, says: str = "", *, setup: str = ""):
    return pytest.param(content, field, says, setup, id=id)


BASE_TEXT = toml()

CASES = [
    # ------------------------------------------------------------ non-finite numbers, everywhere
    case("data-scale-nan", toml(data={"scale": NAN}), "data.scale", "finite"),
    case("data-scale-inf", toml(data={"scale": INF}), "data.scale", "finite"),
    case("discriminator-dropout-nan", toml(discriminator={"dropout": NAN}), "discriminator.dropout", "finite"),
    case("generator-negative-slope-nan", toml(generator={"negative_slope": NAN}), "generator.negative_slope",
         "finite"),
    case("optim-generator-lr-inf", toml(optim={"generator": {"lr": INF}}), "optim.generator.lr", "finite"),
    case("optim-discriminator-lr-nan", toml(optim={"discriminator": {"lr": NAN}}), "optim.discriminator.lr",
         "finite"),
    case("optim-betas-nan", toml(optim={"generator": {"betas": [NAN, 0.9]}}), "optim.generator.betas[0]",
         "finite"),
    case("optim-betas-minus-inf", toml(optim={"discriminator": {"betas": [0.5, -INF]}}),
         "optim.discriminator.betas[1]", "finite"),
    case("optim-weight-decay-inf", toml(optim={"generator": {"weight_decay": INF}}), "optim.generator.weight_decay",
         "finite"),
    case("optim-momentum-nan", toml(optim={"generator": {"momentum": NAN}}), "optim.generator.momentum", "finite"),
    case("train-ema-nan", toml(train={"ema": NAN}), "train.ema", "finite"),
    case("grid-scale-inf", toml(data={"name": "grid25", "scale": INF}), "data.scale", "finite"),
    # ------------------------------------------------------------ files that are not UTF-8 TOML
    case("invalid-utf8-bytes", BASE_TEXT.encode() + b"\n# caf\xe9\n", None, "not UTF-8 text"),
    case("utf16-file", BASE_TEXT.encode("utf-16"), None, "UTF-16"),
    case("random-bytes", bytes(range(256)) * 4, None, "not UTF-8 text"),
    case("nul-byte", BASE_TEXT.encode() + b"\x00", None, "not valid TOML"),
    case("toml-syntax-error", "[train\nsteps = 3\n", None, "not valid TOML"),
    case("empty-file", "", "data", "missing required section"),
    case("too-big-file", "# " + "x" * (1 << 20) + "\n", None, "KiB"),
    # ------------------------------------------------------------ sections of the wrong type
    case("optim-is-an-integer", toml(optim=3), "optim", "expected a table"),
    case("train-is-a-list", toml(train=[1, 2]), "train", "expected a table"),
    case("train-is-an-array-of-tables", edit(toml(drop=("train",)), "[data]", "[[train]]\nsteps = 3\n\n[data]"),
         "train", "expected a table"),
    case("eval-is-a-string", toml(eval="x"), "eval", "expected a table"),
    case("train-is-an-empty-list", toml(train=[]), "train", "expected a table"),
    case("train-is-false", toml(train=False), "train", "expected a table"),
    case("optim-generator-is-an-integer", toml(optim={"generator": 3}), "optim.generator", "expected a table"),
    case("data-is-an-array-of-tables", edit(toml(drop=("data",)), "[generator]", "[[data]]\nname = \"ring8\"\n\n"
                                                                                 "[generator]"),
         "data", "expected a table"),
    case("generator-is-a-list", toml(generator=["mlp"]), "generator", "expected a table"),
    case("loss-is-a-boolean", toml(loss=True), "loss", "expected a table"),
    # ------------------------------------------------------------ sizes no machine holds
    case("latent-dim-int64-max", toml(generator={"latent_dim": 2**63 - 1}), "generator.latent_dim", "<= 16384"),
    case("hidden-dims-1e12", toml(generator={"hidden_dims": [10**12]}), "generator.hidden_dims", "<= 16384"),
    case("hidden-dims-too-many-parameters", toml(discriminator={"hidden_dims": [16384, 16384, 16384]}),
         "discriminator.name", "parameters"),
    case("batch-size-beyond-int64", edit(BASE_TEXT, "batch_size = 8", "batch_size = 99999999999999999999"),
         "train.batch_size", "must be <= 65536"),
    case("batch-size-a-million", toml(train={"batch_size": 1_000_000}), "train.batch_size", "<= 65536"),
    case("seed-beyond-uint64", edit(BASE_TEXT, "seed = 1", "seed = 18446744073709551616"), "seed", "<= 4294967295"),
    case("seed-beyond-its-bound", toml(seed=2**40), "seed", "<= 4294967295"),
    case("steps-beyond-int64", edit(BASE_TEXT, "steps = 2", "steps = 9223372036854775808"), "train.steps",
         "9223372036854775807"),
    case("threads-in-the-millions", toml(train={"threads": 5_000_000}), "train.threads", "<= 1024"),
    case("d-steps-huge", toml(train={"d_steps": 10**9}), "train.d_steps", "<= 1000"),
    case("grad-accum-huge", toml(train={"grad_accum": 10**6}), "train.grad_accum", "<= 1024"),
    case("eval-samples-huge", toml(eval={"samples": 10**9}), "eval.samples", "<= 1000000"),
    case("grid-size-huge", toml(train={"grid_size": 10**6}), "train.grid_size", "<= 1024"),
    case("dcgan-width-huge", toml(DIGITS, generator={"width": 100_000}), "generator.width", "<= 256"),
    case("image-size-huge", toml(DIGITS, data={"image_size": 100_000}), "data.image_size", "<= 1024"),
    case("log-every-beyond-int64", edit(BASE_TEXT, "steps = 2", "steps = 2\nlog_every = -9223372036854775809"),
         "train.log_every", ""),
    # ------------------------------------------------------------ rules across sections
    case("pacgan-pack-does-not-divide-batch", toml(discriminator={"pack": 3}), "discriminator",
         "must divide train.batch_size = 8"),
    case("conditional-on-unlabelled-data", toml(conditional=True), "conditional", "no class labels"),
    case("dcgan-on-flat-data", toml(generator={"name": "dcgan"}), "generator.name", "takes image data"),
    case("dcgan-unsupported-image-size", toml(DIGITS, data={"image_size": 48}), "generator.name", "8, 16, 28"),
    # ------------------------------------------------------------ data that is not there
    case("image-folder-empty", toml(data={"name": "image-folder", "root": f"{TMP}/empty", "image_size": 16}),
         "data", "no image files", setup="empty"),
    case("image-folder-missing", toml(data={"name": "image-folder", "root": f"{TMP}/nowhere"}), "data",
         "does not exist"),
    case("image-folder-class-without-images",
         toml(data={"name": "image-folder", "root": f"{TMP}/classes", "image_size": 16}), "data", "no image files",
         setup="classes"),
    case("mnist-files-absent", toml(DIGITS, data={"name": "mnist", "root": f"{TMP}/nodata", "image_size": 16}),
         "data", "dataset files missing"),
    case("fashion-mnist-files-absent",
         toml(DIGITS, data={"name": "fashion-mnist", "root": f"{TMP}/nodata", "image_size": 16}), "data",
         "FashionMNIST"),
    case("cifar10-files-absent", toml(DIGITS, data={"name": "cifar10", "root": f"{TMP}/nodata", "image_size": 16}),
         "data", "cifar-10-batches-py"),
    # ------------------------------------------------------------ run names that are not one path component
    case("name-climbs-out-of-runs", toml(name="../x"), "name", "one path component"),
    case("name-is-absolute", toml(name="/tmp/x"), "name", "one path component"),
    case("name-is-empty", toml(name=""), "name", "one path component"),
    case("name-has-a-slash", toml(name="a/b"), "name", "one path component"),
    case("name-is-hidden", toml(name=".x"), "name", "one path component"),
    case("name-is-an-integer", toml(name=3), "name", "expected a string"),
    # ------------------------------------------------------------ typos: the closest name is offered
    case("train-stpes-typo", toml(train={"stpes": 3}), "train.stpes", "did you mean 'steps'"),
    case("section-trian-typo", toml(trian={"steps": 3}), "trian", "did you mean 'train'"),
    case("generator-name-typo", toml(generator={"name": "mpl"}), "generator.name", "did you mean 'mlp'"),
    case("generator-option-typo", toml(generator={"latent_dimm": 8}), "generator.latent_dimm",
         "did you mean 'latent_dim'"),
    case("optimizer-not-a-choice", toml(optim={"generator": {"name": "adom"}}), "optim.generator.name", "'adam'"),
    case("device-not-a-choice", toml(train={"device": "tpu"}), "train.device", "'cuda'"),
    case("mixed-precision-not-a-choice", toml(train={"mixed_precision": "fp8"}), "train.mixed_precision", "'bf16'"),
    case("loss-name-typo", toml(loss={"name": "hinje"}), "loss.name", "did you mean 'hinge'"),
    # ------------------------------------------------------------ plain wrong types and ranges
    case("seed-is-a-string", toml(seed="one"), "seed", "expected an integer"),
    case("steps-is-a-float", toml(train={"steps": 2.5}), "train.steps", "expected an integer"),
    case("betas-has-three-values", toml(optim={"generator": {"betas": [0.5, 0.9, 0.99]}}), "optim.generator.betas",
         "a list of 2"),
    case("conditional-is-a-string", toml(conditional="yes"), "conditional", "true or false"),
    case("metrics-not-a-list", toml(eval={"metrics": "modes"}), "eval.metrics", "expected a list"),
    case("metric-unknown", toml(eval={"metrics": ["fdi"]}), "eval.metrics[0]", "unknown metric"),
    case("lr-is-zero", toml(optim={"generator": {"lr": 0}}), "optim.generator.lr", "must be > 0"),
    case("seed-is-negative", toml(seed=-1), "seed", "must be >= 0"),
    case("ema-above-one", toml(train={"ema": 1.5}), "train.ema", "must be <= 1"),
    case("dropout-above-its-max", toml(discriminator={"dropout": 0.95}), "discriminator.dropout", "must be <= 0.9"),
    case("description-is-a-table", toml(description={"a": 1}), "description", "expected a string"),
    case("unknown-top-level-key", toml(sead=3), "sead", "did you mean 'seed'"),
    case("component-without-name", toml(loss={"kind": "x"}, drop=("loss",)), "loss.name", "missing required field"),
    case("pack-is-zero", toml(discriminator={"pack": 0}), "discriminator.pack", "must be >= 1"),
    case("hidden-dims-has-zero", toml(generator={"hidden_dims": [16, 0]}), "generator.hidden_dims", "must be >= 1"),
    case("ring-scale-is-zero", toml(data={"scale": 0.0}), "data.scale", "must be >= 0.001"),
]


def _prepare(tmp_path: Path, setup: str) -> None:
    if setup == "empty":
        (tmp_path / "empty").mkdir()
    if setup == "classes":
        (tmp_path / "classes" / "cats").mkdir(parents=True)
        (tmp_path / "classes" / "dogs").mkdir(parents=True)
        (tmp_path / "classes" / "cats" / "a.png").write_bytes(b"not really a png, but named like one")


def write_case(tmp_path: Path, name: str, content: str | bytes, setup: str) -> Path:
    _prepare(tmp_path, setup)
    path = tmp_path / f"{name}.toml"
    if isinstance(content, str):
        path.write_text(content.replace(TMP, tmp_path.as_posix()), encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def assert_one_line(err: str, out: str, path: Path, field: str | None, says: str) -> None:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"ganzoo: error: {path}"), lines[0]
    if field is not None:
        assert f": {field}: " in lines[0], lines[0]
    assert says in lines[0], lines[0]
    assert "Traceback" not in err + out


def test_the_corpus_is_large_and_named_uniquely():
    ids = [param.id for param in CASES]
    assert len(ids) >= 60
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("content, field, says, setup", CASES, ids=[p.id for p in CASES])
def test_malformed_recipe_run_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, request, content, field,
                                                                    says, setup):
    name = request.node.callspec.id
    path = write_case(tmp_path, name, content, setup)
    out_dir = tmp_path / "out" / "run"
    assert main(["run", str(path), "--out", str(out_dir), "--quiet"]) == 2
    captured = capsys.readouterr()
    assert_one_line(captured.err, captured.out, path, field, says)
    assert not (tmp_path / "out").exists()

    assert main(["validate", str(path)]) == 2  # validate finds every one of them too
    captured = capsys.readouterr()
    assert_one_line(captured.err, captured.out, path, field, says)


SUBPROCESS = ("utf16-file", "optim-is-an-integer", "optim-betas-nan", "pacgan-pack-does-not-divide-batch",
              "image-folder-empty")


@pytest.mark.parametrize("content, field, says, setup", [p for p in CASES if p.id in SUBPROCESS],
                         ids=[p.id for p in CASES if p.id in SUBPROCESS])
def test_malformed_recipe_in_a_real_process(tmp_path, request, content, field, says, setup):
    name = request.node.callspec.id
    path = write_case(tmp_path, name, content, setup)
    env = {key: value for key, value in os.environ.items() if not key.startswith("GANZOO_")}
    result = subprocess.run(
        [sys.executable, "-m", "ganzoo.cli.main", "run", str(path), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert_one_line(result.stderr, result.stdout, path, field, says)
    assert not (tmp_path / "out").exists()


def test_the_base_recipe_of_the_corpus_is_valid(tmp_path, capsys):
    path = write_case(tmp_path, "base", BASE_TEXT, "")
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err


def test_empty_train_table_means_the_defaults(tmp_path, capsys):
    """An explicit empty ``[train]`` table is a table: unlike ``train = []`` or ``false`` it asks for defaults."""
    path = write_case(tmp_path, "empty-train-table", toml(drop=("train",)) + "\n[train]\n", "")
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err
