"""``ganzoo export`` writes a Hub-ready folder; ``ganzoo sample`` and ``ganzoo.load_generator`` read it back by
repository id through huggingface_hub's cache, offline (``HF_HUB_OFFLINE=1``, a cache folder this test fills in
the layout huggingface_hub keeps: models--USER--NAME/snapshots/REVISION/..., refs/main)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from huggingface_hub.repocard import metadata_load

from ganzoo.cli.main import main

TINY = ["--set", "generator.hidden_dims=[16]", "--set", "discriminator.hidden_dims=[16]", "--quiet"]
REVISION = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    patch = pytest.MonkeyPatch()
    patch.setenv("GANZOO_CACHE", str(tmp_path_factory.mktemp("cache")))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
    patch.undo()


@pytest.fixture(scope="module")
def digits_run(env, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "digits"
    assert main(["run", "cmlp-digits", "--set", "train.steps=3", "--set", "data.image_size=8",
                 "--set", "train.batch_size=16", *TINY, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def ring_run(env, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "ring"
    assert main(["run", "vanilla-ring8", "--set", "train.steps=3", *TINY, "--out", str(out),
                 "--set", "eval.every=2", "--set", "eval.samples=200"]) == 0
    return out


def test_export_writes_a_hub_folder_with_figures_beside_floors(digits_run, tmp_path, capsys):
    capsys.readouterr()
    assert main(["eval", str(digits_run), "--metric", "classifier-fd", "--set", "classifier-fd.max_steps=30",
                 "-n", "200", "--json"]) == 0
    report = capsys.readouterr().out
    (tmp_path / "eval.json").write_text(report)
    figures = json.loads(report)["metrics"]["classifier-fd"]
    out = tmp_path / "export"
    assert main(["export", str(digits_run), str(out), "--eval", str(tmp_path / "eval.json"),
                 "--repo-id", "alice/digits", "--license", "apache-2.0"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "generator.safetensors", "recipe.toml",
                                                    "samples.png"]
    # the EMA generator, byte for byte
    assert (out / "generator.safetensors").read_bytes() == (digits_run / "generator-ema.safetensors").read_bytes()
    readme = (out / "README.md").read_text()
    meta = metadata_load(out / "README.md")  # the Hub's own reader of a model card's front matter
    assert meta["library_name"] == "ganzoo" and meta["license"] == "apache-2.0"
    assert {"ganzoo", "gan", "digits", "class-conditional"} <= set(meta["tags"])
    fd, floor = figures["fd"], figures["fd_floor"]
    assert f"| classifier-fd | fd | {fd:.4g} | {floor:.4g} |" in readme
    assert "ganzoo sample alice/digits" in readme and "generator-ema.safetensors" in readme
    assert "![samples](samples.png)" in readme


def test_export_of_a_run_with_its_own_evaluation_and_of_one_without(ring_run, digits_run, tmp_path):
    assert main(["export", str(ring_run), str(tmp_path / "ring")]) == 0
    readme = (tmp_path / "ring" / "README.md").read_text()
    assert "metrics.jsonl, step 3" in readme and "| mode-coverage | modes |" in readme
    assert main(["export", str(digits_run), str(tmp_path / "digits")]) == 0
    assert "Not evaluated" in (tmp_path / "digits" / "README.md").read_text()


@pytest.mark.parametrize("argv,message", [
    (["RUN", "EXISTING"], "not an empty folder"),
    (["NOWHERE", "NEW"], "no such run directory"),
    (["RUN", "NEW", "--license", "MIT License"], "--license"),
    (["RUN", "NEW", "--repo-id", "just-a-name"], "--repo-id"),
    (["RUN", "NEW", "--eval", "JUNK"], "--eval"),
])
def test_export_bad_input_is_one_line(digits_run, tmp_path, capsys, argv, message):
    (tmp_path / "existing").mkdir()
    (tmp_path / "existing" / "x").write_text("keep me")
    (tmp_path / "junk.json").write_text("{}")
    paths = {"RUN": str(digits_run), "EXISTING": str(tmp_path / "existing"), "NOWHERE": str(tmp_path / "nowhere"),
             "NEW": str(tmp_path / "new"), "JUNK": str(tmp_path / "junk.json")}
    capsys.readouterr()
    assert main(["export", *(paths.get(a, a) for a in argv)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "new").exists() and (tmp_path / "existing" / "x").read_text() == "keep me"


def fill_cache(cache: Path, repo: str, folder: Path) -> None:
    """Put an exported folder into a Hub cache as huggingface_hub lays one out after a download."""
    root = cache / f"models--{repo.replace('/', '--')}"
    shutil.copytree(folder, root / "snapshots" / REVISION)
    (root / "refs").mkdir()
    (root / "refs" / "main").write_text(REVISION)


def offline(cache: Path, cwd: Path, *argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(cache), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def test_sample_and_load_generator_by_hub_id_from_the_cache(digits_run, tmp_path):
    assert main(["export", str(digits_run), str(tmp_path / "export")]) == 0
    cache, work = tmp_path / "hub", tmp_path / "work"
    work.mkdir()
    fill_cache(cache, "alice/digits", tmp_path / "export")
    cli = offline(cache, work, "-m", "ganzoo.cli.main", "sample", "alice/digits", "-n", "4", "--out", "s.png")
    assert cli.returncode == 0, cli.stderr
    assert (work / "s.png").is_file()
    script = (
        "import ganzoo, torch\n"
        f"a = ganzoo.load_generator('alice/digits@{REVISION}')\n"
        f"b = ganzoo.load_generator({str(digits_run)!r})\n"
        "assert a.card == b.card\n"
        "assert all(torch.equal(a.state_dict()[k], v) for k, v in b.state_dict().items())\n"
        "print('same')\n"
    )
    api = offline(cache, work, "-c", script)
    assert api.returncode == 0 and api.stdout.strip() == "same", api.stderr


def test_a_repository_neither_here_nor_cached_is_one_line(tmp_path):
    (tmp_path / "hub").mkdir()
    result = offline(tmp_path / "hub", tmp_path, "-m", "ganzoo.cli.main", "sample", "bob/nothing", "-n", "4",
                     "--out", "s.png")
    err = result.stderr.strip()
    assert result.returncode == 2 and len(err.splitlines()) == 1, err
    assert "bob/nothing" in err and "local cache" in err
