"""Run folders and weights files under stress: not-a-folder, read-only and full outputs, two runs in one
folder, deterministic weights, hostile weights files, and samples in the data's own units."""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from helpers_training import assert_one_line_error, cli_command, cli_env
from hostile_runs import RING, train
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

import ganzoo
from ganzoo.cli.main import main
from ganzoo.run_lock import LOCK_NAME, RunLock

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = RING  # the tiny ring run every run-folder test starts from (tests/hostile_runs.py)


def write_recipe(folder: Path, raw: dict = TINY, name: str = "tiny-ring.toml") -> Path:
    import tomli_w

    path = folder / name
    path.write_text(tomli_w.dumps(raw))
    return path


def no_temporary_files(folder: Path) -> bool:
    return not [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


# ---------------------------------------------------------------- outputs that cannot be used
def test_out_naming_a_file_is_one_line_and_leaves_the_file(tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("mine")
    assert main(["run", str(write_recipe(tmp_path)), "--out", str(target), "--quiet"]) == 2
    assert_one_line_error(capsys.readouterr().err, f"--out {target}: is a file")
    assert target.read_text() == "mine"


def test_out_under_a_file_is_one_line(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert main(["run", str(write_recipe(tmp_path)), "--out", str(tmp_path / "file" / "run"), "--quiet"]) == 2
    assert_one_line_error(capsys.readouterr().err, "is a file, so the folder cannot be made")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_out_is_one_line(tmp_path, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        assert main(["run", str(write_recipe(tmp_path)), "--out", str(folder / "run"), "--quiet"]) == 2
        assert_one_line_error(capsys.readouterr().err, "is not writable")
    finally:
        folder.chmod(0o755)


def _disk_full(*args, **kwargs):
    raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")


def test_disk_full_at_the_first_checkpoint_is_one_line_and_the_folder_is_reusable(tmp_path, capsys, monkeypatch):
    run_dir = tmp_path / "run"
    recipe = write_recipe(tmp_path)
    with monkeypatch.context() as patch:  # the library's own error, as a full disk raises it
        patch.setattr("ganzoo.training.checkpoint.save_file", _disk_full)
        assert main(["run", str(recipe), "--out", str(run_dir), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert_one_line_error(err, f"{run_dir}: cannot write: No space left on device", "start afresh with --out")
    assert no_temporary_files(run_dir)
    assert not (run_dir / LOCK_NAME).exists()
    assert main(["run", "--resume", str(run_dir), "--quiet"]) == 2  # nothing to resume: says what to do
    assert_one_line_error(capsys.readouterr().err, "no checkpoint yet", f"start it afresh with --out {run_dir}")
    assert main(["run", str(recipe), "--out", str(run_dir), "--quiet"]) == 0  # a fresh run takes the folder
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows] == [1, 2]  # the stale log of the failed run is gone


def test_disk_full_after_a_checkpoint_leaves_the_run_resumable(tmp_path, capsys, monkeypatch):
    run_dir = tmp_path / "run"
    recipe = write_recipe(tmp_path, {**TINY, "train": {**TINY["train"], "steps": 4, "checkpoint_every": 2}})
    real = ganzoo.training.checkpoint.save_file
    calls = []

    def full_on_second(*args, **kwargs):
        calls.append(1)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr("ganzoo.training.checkpoint.save_file", full_on_second)
        assert main(["run", str(recipe), "--out", str(run_dir), "--quiet"]) == 2
    assert_one_line_error(capsys.readouterr().err, "No space left on device", f"ganzoo run --resume {run_dir}")
    assert no_temporary_files(run_dir)
    assert main(["run", "--resume", str(run_dir), "--quiet"]) == 0
    assert ganzoo.load_generator(run_dir).card.step == 4


@pytest.mark.slow  # a fresh interpreter
def test_a_file_size_limit_in_a_real_process_is_one_line(tmp_path):
    """A real OS write failure (EFBIG under RLIMIT_FSIZE) in a real process: one line, exit 2."""
    recipe = write_recipe(tmp_path, {**TINY, "generator": {"name": "mlp", "hidden_dims": [256]}})

    def limit():  # pragma: no cover - runs in the child
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, 40_000))

    result = subprocess.run(cli_command(["run", recipe, "--out", tmp_path / "run", "--quiet"]), env=cli_env(),
                            capture_output=True, text=True, timeout=180, preexec_fn=limit)
    assert result.returncode == 2, result.stderr
    assert_one_line_error(result.stderr, "cannot write: File too large")
    assert no_temporary_files(tmp_path / "run")


# ---------------------------------------------------------------- one run per folder
def _hold_lock(folder: Path) -> subprocess.Popen:
    code = ("import sys; from ganzoo.run_lock import RunLock; RunLock(sys.argv[1]).acquire(); "
            "print('locked', flush=True); sys.stdin.read()")
    holder = subprocess.Popen([sys.executable, "-c", code, str(folder)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=cli_env())
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_a_second_run_in_a_locked_folder_names_the_first_ones_pid(tmp_path, capsys):
    run_dir = tmp_path / "run"
    holder = _hold_lock(run_dir)
    try:
        assert main(["run", str(write_recipe(tmp_path)), "--out", str(run_dir), "--quiet"]) == 2
        assert_one_line_error(capsys.readouterr().err, f"{run_dir} is in use by another ganzoo run (pid {holder.pid})")
        assert sorted(p.name for p in run_dir.iterdir()) == [LOCK_NAME]  # nothing of the second run
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert main(["run", str(write_recipe(tmp_path)), "--out", str(run_dir), "--quiet"]) == 0  # released


def test_a_killed_holder_leaves_no_lock_behind(tmp_path):
    run_dir = tmp_path / "run"
    holder = _hold_lock(run_dir)
    holder.kill()
    holder.wait(timeout=30)
    assert (run_dir / LOCK_NAME).exists()  # the file stays, but the OS dropped the lock with the process
    with RunLock(run_dir):
        assert (run_dir / LOCK_NAME).read_text().strip() == str(os.getpid())
    assert not (run_dir / LOCK_NAME).exists()


@pytest.mark.slow  # two real runs
def test_two_real_runs_with_the_same_out(tmp_path):
    recipe = write_recipe(tmp_path, {**TINY, "train": {**TINY["train"], "steps": 100_000}})
    run_dir = tmp_path / "run"
    first = subprocess.Popen(cli_command(["run", recipe, "--out", run_dir, "--quiet"]), env=cli_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(600):  # until the first run holds the folder
            if (run_dir / LOCK_NAME).exists() and (run_dir / LOCK_NAME).read_text().strip():
                break
            first.poll()
            assert first.returncode is None, first.stderr.read()
            import time

            time.sleep(0.1)
        second = subprocess.run(cli_command(["run", recipe, "--out", run_dir, "--quiet"]), env=cli_env(),
                                capture_output=True, text=True, timeout=180)
        assert second.returncode == 2
        assert_one_line_error(second.stderr, f"pid {first.pid}")
    finally:
        first.send_signal(signal.SIGINT)
        first.wait(timeout=120)


# ---------------------------------------------------------------- deterministic weights
def test_identical_runs_give_byte_identical_weights(tmp_path):
    digests = []
    for name in ("a", "b"):
        run_dir = ganzoo.run_recipe(TINY, out=tmp_path / name, quiet=True).run_dir
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in run_dir.glob("*.safetensors")})
    assert digests[0] == digests[1]
    assert set(digests[0]) == {"generator.safetensors", "discriminator.safetensors"}
    raw = (tmp_path / "a" / "generator.safetensors").read_bytes()
    header = json.loads(raw[8 : 8 + int.from_bytes(raw[:8], "little")])
    assert list(header["__metadata__"]) == sorted(header["__metadata__"])


# ---------------------------------------------------------------- hostile weights files
@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
    return train(TINY, tmp_path_factory.mktemp("ring") / "run")


def rewrite(source: Path, target: Path, *, tensors=None, **changes: str) -> Path:
    with safe_open(str(source), framework="pt") as handle:
        metadata = dict(handle.metadata())
        found = {key: handle.get_tensor(key) for key in handle.keys()}
    for key, value in changes.items():
        if value is None:
            metadata.pop(f"ganzoo.{key}", None)
        else:
            metadata[f"ganzoo.{key}"] = value
    save_file(tensors(found) if tensors else found, str(target), metadata=metadata)
    return target


HOSTILE_METADATA = [
    ("latent-dim-null", {"latent_dim": "null"}, "ganzoo.latent_dim"),
    ("latent-dim-string", {"latent_dim": '"big"'}, "ganzoo.latent_dim: got 'big'"),
    ("num-classes-negative", {"num_classes": "-3"}, "ganzoo.num_classes: got -3; must be >= 0"),
    ("num-classes-string", {"num_classes": '"ten"'}, "ganzoo.num_classes: got 'ten'"),
    ("shape-negative", {"shape": "[-1]"}, "ganzoo.shape"),
    ("shape-huge", {"shape": "[1000000000000]"}, "ganzoo.shape"),
    ("shape-product-huge", {"shape": "[60000, 60000]"}, "product is at most"),
    ("recipe-a-string", {"recipe": '"x"'}, "ganzoo.recipe: got 'x'; expected a table"),
    ("options-a-list", {"options": "[1]"}, "ganzoo.options"),
    ("options-bad-value", {"options": '{"latent_dim": 0}'}, "latent_dim: got 0"),
    ("role-unknown", {"role": '"oracle"'}, "ganzoo.role: got 'oracle'"),
    ("units-nan", {"units": '{"scale": NaN, "offset": 0}'}, "ganzoo.units is not valid JSON"),
    ("units-zero", {"units": '{"scale": 0, "offset": 0}'}, "units.scale: got 0"),
    ("json-broken", {"shape": "[2"}, "ganzoo.shape is not valid JSON"),
    ("shape-missing", {"shape": None}, "lacks ganzoo.shape"),
]


@pytest.mark.parametrize("changes, says", [case[1:] for case in HOSTILE_METADATA],
                         ids=[case[0] for case in HOSTILE_METADATA])
@pytest.mark.parametrize("command", ["sample", "eval"])
def test_hostile_metadata_is_one_line_naming_the_key(ring_run, tmp_path, capsys, command, changes, says):
    bad = rewrite(ring_run / "generator.safetensors", tmp_path / "bad.safetensors", **changes)
    args = ["sample", str(bad), "--out", str(tmp_path / "x.npy")] if command == "sample" else ["eval", str(bad), "-n", "50"]
    assert main(args) == 2
    assert_one_line_error(capsys.readouterr().err, f"{bad}", says)
    assert not (tmp_path / "x.npy").exists()


def test_nan_weights_are_refused_with_the_count(ring_run, tmp_path, capsys):
    def poison(tensors):
        key = sorted(tensors)[0]
        tensors[key] = tensors[key].clone()
        tensors[key].view(-1)[:3] = float("nan")
        return tensors

    bad = rewrite(ring_run / "generator.safetensors", tmp_path / "nan.safetensors", tensors=poison)
    for args in (["sample", str(bad), "--out", str(tmp_path / "x.npy")], ["eval", str(bad), "-n", "50"]):
        assert main(args) == 2
        assert_one_line_error(capsys.readouterr().err, "3 of", "weights are not finite")
    assert not (tmp_path / "x.npy").exists()


class OverflowingGenerator(torch.nn.Module):
    """The ring run's MLP generator, its output multiplied by infinity: finite weights whose samples are inf or
    nan on every CPU (scaling the weights instead rests on one CPU's kernels overflowing where another's do not)."""

    def __init__(self, options, *, shape, num_classes=0):
        super().__init__()
        from ganzoo_mlp.models import MLPGenerator

        self.inner = MLPGenerator(options, shape=shape, num_classes=num_classes)
        self.latent_dim, self.num_classes = self.inner.latent_dim, num_classes

    def forward(self, z, c=None):
        return self.inner(z, c) * float("inf")


@ganzoo.hookimpl
def register_overflowing(register):
    from ganzoo_mlp.options import MLPGeneratorOptions

    register("overflowing", OverflowingGenerator, description="samples that are not finite",
             options=MLPGeneratorOptions)


def test_weights_whose_samples_are_not_finite_are_refused(ring_run, tmp_path, capsys, ganzoo_plugin):
    ganzoo_plugin(SimpleNamespace(register_generators=register_overflowing), name="overflowing")
    bad = rewrite(ring_run / "generator.safetensors", tmp_path / "inf.safetensors",
                  tensors=lambda t: {f"inner.{k}": v for k, v in t.items()},
                  component='"overflowing"', plugin='"overflowing"')
    for args in (["sample", str(bad), "--out", str(tmp_path / "x.npy")], ["eval", str(bad), "-n", "50"]):
        assert main(args) == 2
        assert_one_line_error(capsys.readouterr().err, "samples are not finite")
    assert not (tmp_path / "x.npy").exists()


def mnist_pointing_weights(ring_run, tmp_path):
    """A copy of the ring run's weights whose embedded recipe names MNIST at a folder of its choosing, with
    downloads on: the file and that folder."""
    elsewhere = tmp_path / "anywhere"
    with safe_open(str(ring_run / "generator.safetensors"), framework="pt") as handle:
        recipe = json.loads(handle.metadata()["ganzoo.recipe"])
    recipe["data"] = {"name": "mnist", "root": str(elsewhere), "download": True}
    bad = rewrite(ring_run / "generator.safetensors", tmp_path / "hostile.safetensors", recipe=json.dumps(recipe))
    return bad, elsewhere


def test_an_embedded_recipe_never_chooses_paths_or_downloads(ring_run, tmp_path, capsys, monkeypatch):
    """A file saying `data = {name = "mnist", root = "/anywhere", download = true}`: eval reads from the
    user's side (the documented default `data`, here under the working folder) and downloads nothing."""
    monkeypatch.chdir(tmp_path)
    bad, elsewhere = mnist_pointing_weights(ring_run, tmp_path)
    assert main(["eval", str(bad), "-n", "50"]) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert not elsewhere.exists()
    from ganzoo.evaluation import EvalContext

    context = EvalContext.from_weights(bad, n=10)
    assert context.dataset_options.root == "data" and context.dataset_options.download is False
    with pytest.raises(ganzoo.GanzooError, match=str(tmp_path / "data" / "MNIST" / "raw")):
        context.real("test")
    assert not elsewhere.exists()
    given = EvalContext.from_weights(bad, n=10, data_options={"root": str(tmp_path / "mine")})
    assert given.dataset_options.root == str(tmp_path / "mine")  # the user's own choice is taken


def test_eval_data_option_reaches_the_dataset(ring_run, tmp_path, capsys):
    assert main(["eval", str(ring_run), "--data", "rooot=/x", "-n", "50"]) == 2
    assert_one_line_error(capsys.readouterr().err, "data.rooot: unknown key")


# ---------------------------------------------------------------- samples in the data's own units
def _constant_ring_generator(tmp_path: Path, angle: float) -> Path:
    """A real mlp generator whose output is one ring8 mode for every z: its last layer's weights are 0 and
    its bias is atanh of the mode's position in model units (radius 0.8), so tanh gives exactly that point."""
    from ganzoo.components import DataInfo
    from ganzoo.weights import ModelCard, save_weights
    from ganzoo_datasets.options import RingOptions, ring_info

    G = ganzoo.build_generator("mlp", shape=(2,), latent_dim=4, hidden_dims=[8])
    last = [m for m in G.modules() if isinstance(m, torch.nn.Linear)][-1]
    target = torch.tensor([math.cos(angle), math.sin(angle)]) * 0.8
    with torch.no_grad():
        last.weight.zero_()
        last.bias.copy_(torch.atanh(target))
    info: DataInfo = ring_info(RingOptions())
    card = ModelCard(role="generator", component="mlp", plugin="mlp", options={"latent_dim": 4, "hidden_dims": [8]},
                     shape=(2,), num_classes=0, latent_dim=4, units=info.units)
    return save_weights(G, tmp_path / "ring-mode.safetensors", card)


def test_sample_npy_is_in_the_data_units_ring_points_on_the_unit_circle(tmp_path, capsys):
    weights = _constant_ring_generator(tmp_path, angle=2 * math.pi * 3 / 8)
    assert main(["sample", str(weights), "-n", "16", "--out", str(tmp_path / "data.npy")]) == 0
    assert main(["sample", str(weights), "-n", "16", "--out", str(tmp_path / "model.npy"), "--model-units"]) == 0
    data, model = np.load(tmp_path / "data.npy"), np.load(tmp_path / "model.npy")
    np.testing.assert_allclose(np.linalg.norm(data, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(model, axis=1), 0.8, atol=1e-5)
    np.testing.assert_allclose(data[0], [math.cos(3 * math.pi / 4), math.sin(3 * math.pi / 4)], atol=1e-5)


def test_python_sampling_takes_the_same_units(tmp_path):
    weights = _constant_ring_generator(tmp_path, angle=0.0)
    x, c = ganzoo.sample(weights, 8)
    assert c is None
    torch.testing.assert_close(x, torch.tensor([[1.0, 0.0]]).expand(8, 2), atol=1e-5, rtol=0)
    x_model, _ = ganzoo.sample(weights, 8, model_units=True)
    torch.testing.assert_close(x_model, torch.tensor([[0.8, 0.0]]).expand(8, 2), atol=1e-5, rtol=0)


def test_a_trained_run_records_its_units(ring_run):
    assert ganzoo.load_generator(ring_run).card.units == {"scale": 1.25, "offset": 0.0}


def test_image_units_are_zero_to_one():
    from ganzoo_datasets.options import DigitsOptions, digits_info

    units = digits_info(DigitsOptions()).units
    assert (-1.0 * units["scale"] + units["offset"], 1.0 * units["scale"] + units["offset"]) == (0.0, 1.0)


def test_run_name_from_an_odd_file_name_is_one_path_component(tmp_path):
    from ganzoo.api import default_run_dir
    from ganzoo.recipe import load_recipe

    recipe = load_recipe(write_recipe(tmp_path, {k: v for k, v in TINY.items() if k != "name"}, "my recipe (2).toml"))
    assert recipe.name == "my-recipe-2"
    assert default_run_dir(recipe, tmp_path / "runs").parent == tmp_path / "runs"


def test_sample_scatter_never_takes_data_paths_from_the_file(ring_run, tmp_path, capsys, monkeypatch):
    """`ganzoo sample --out x.png` draws real points behind a 2-D scatter: from the user's side only."""
    monkeypatch.chdir(tmp_path)
    bad, elsewhere = mnist_pointing_weights(ring_run, tmp_path)
    assert main(["sample", str(bad), "-n", "8", "--out", str(tmp_path / "x.png")]) == 0
    assert (tmp_path / "x.png").is_file()
    assert not elsewhere.exists()


def test_sample_out_that_cannot_be_written_is_one_line(ring_run, tmp_path, capsys):
    (tmp_path / "folder.npy").mkdir()
    assert main(["sample", str(ring_run), "--out", str(tmp_path / "folder.npy")]) == 2
    assert_one_line_error(capsys.readouterr().err, "is a folder")
    (tmp_path / "file").write_text("x")
    assert main(["sample", str(ring_run), "--out", str(tmp_path / "file" / "x.npy")]) == 2
    assert_one_line_error(capsys.readouterr().err, "cannot write")
