"""``ganzoo run``: every offline shipped recipe trains (tiny), what a run directory holds, missing data,
and Ctrl-C (a real SIGINT to a real process) followed by ``--resume``."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
import torch
from helpers_training import (
    assert_one_line_error,
    assert_same_tensors,
    recipe_names,
    run_cli,
    set_args,
    start_cli,
    tiny,
)

from ganzoo.api import build_trainer, run_recipe
from ganzoo.cli.main import main
from ganzoo.recipe import load_recipe
from ganzoo.training import checkpoint

pytestmark = pytest.mark.usefixtures("one_thread")

METRIC_FIELDS = {"step", "d_loss", "g_loss", "d_real", "d_fake", "images_per_s", "wall_s"}
PNG = b"\x89PNG\r\n\x1a\n"


def metric_rows(run_dir) -> list[dict]:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def assert_finished_run(run_dir, steps: int) -> None:
    """Everything a finished run leaves: weights, resolved recipe, samples, curves, metrics, checkpoints."""
    for name in ("generator.safetensors", "discriminator.safetensors", "recipe.toml", "curves.png", "metrics.jsonl"):
        assert (run_dir / name).is_file(), name
    assert (run_dir / "curves.png").read_bytes()[:8] == PNG
    sample = run_dir / "samples" / f"step-{steps:06d}.png"
    assert sample.read_bytes()[:8] == PNG
    resolved = load_recipe(run_dir / "recipe.toml")  # the resolved recipe re-validates
    assert resolved.train.steps == steps
    rows = [row for row in metric_rows(run_dir) if "d_loss" in row]  # training rows (not evaluations)
    assert rows and all(METRIC_FIELDS <= row.keys() for row in rows)
    assert [row["step"] for row in rows] == list(range(1, steps + 1))  # log_every = 1
    assert all(row["images_per_s"] > 0 and row["wall_s"] > 0 for row in rows)
    assert checkpoint.latest_checkpoint(run_dir / "checkpoints").name == f"step-{steps:06d}.safetensors"
    assert not [p for p in run_dir.rglob("*.tmp")]


@pytest.mark.parametrize("name", recipe_names(offline=True))
def test_every_offline_recipe_trains_a_few_steps(tmp_path, capsys, name):
    run_dir = tmp_path / "run"
    assert main(["run", name, *set_args(tiny(name, steps=3)), "--out", str(run_dir)]) == 0
    out, err = capsys.readouterr()
    assert f"done: 3 steps; run directory {run_dir}" in out
    assert "step 3/3" in err  # plain progress lines away from a terminal
    assert_finished_run(run_dir, 3)
    recipe = load_recipe(run_dir / "recipe.toml")
    assert (run_dir / "generator-ema.safetensors").is_file() == (recipe.train.ema > 0)


@pytest.mark.slow  # a fresh interpreter: about 10 s, mostly importing torch and accelerate
def test_shipped_recipe_by_name_in_a_real_process(tmp_path):
    sets = tiny("cdcgan-digits", steps=3, checkpoint_every=2, sample_every=2)
    result = run_cli("run", "cdcgan-digits", *set_args(sets), "--out", "run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    run_dir = tmp_path / "run"
    assert_finished_run(run_dir, 3)
    assert (run_dir / "samples" / "step-000002.png").is_file()
    assert (run_dir / "generator-ema.safetensors").is_file()
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["step-000002.safetensors",
                                                                            "step-000003.safetensors"]


@pytest.mark.parametrize("name", recipe_names(offline=False))
def test_recipe_without_its_data_is_exit_2_naming_the_folder(tmp_path, monkeypatch, capsys, name):
    monkeypatch.chdir(tmp_path)
    folder = {"mnist": os.path.join("MNIST", "raw"), "cifar10": "cifar-10-batches-py"}[load_recipe(name).data.name]
    assert main(["run", name, "--quiet"]) == 2
    assert_one_line_error(capsys.readouterr().err, str(tmp_path / "data" / folder), "download = true")
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


@pytest.mark.slow  # a fresh interpreter
def test_recipe_without_its_data_in_a_real_process(tmp_path):
    result = run_cli("run", "cdcgan-mnist", cwd=tmp_path)
    assert result.returncode == 2
    assert_one_line_error(result.stderr, os.path.join("data", "MNIST", "raw"))


def test_run_argument_errors_are_exit_2(tmp_path, capsys):
    assert main(["run"]) == 2
    assert_one_line_error(capsys.readouterr().err, "give a RECIPE")
    assert main(["run", "vanilla-ring8", "--out", str(tmp_path), "--resume", str(tmp_path)]) == 2
    assert_one_line_error(capsys.readouterr().err, "--out and --resume")
    assert main(["run", "no-such-recipe"]) == 2
    assert_one_line_error(capsys.readouterr().err, "no such recipe file")
    assert main(["run", "vanilla-ring8", "--set", "train.steps=0"]) == 2
    assert_one_line_error(capsys.readouterr().err, "train.steps")
    finished = tmp_path / "finished"
    assert main(["run", "vanilla-ring8", *set_args(tiny("vanilla-ring8", steps=1)), "--out", str(finished),
                 "--quiet"]) == 0
    assert main(["run", "vanilla-ring8", *set_args(tiny("vanilla-ring8", steps=1)), "--out", str(finished),
                 "--quiet"]) == 2
    assert_one_line_error(capsys.readouterr().err, "already holds a run", f"--resume {finished}")


def test_sigint_in_process_checkpoints_and_resumes_bit_identical(tmp_path):
    """The trainer's own SIGINT handler: finish the step, checkpoint, raise KeyboardInterrupt."""
    recipe = load_recipe("cdcgan-digits", tiny("cdcgan-digits", steps=6))
    full = run_recipe(recipe, out=tmp_path / "full", quiet=True).run_dir

    def ctrl_c(trainer):
        if trainer.step == 2:
            os.kill(os.getpid(), signal.SIGINT)

    stopped = tmp_path / "stopped"
    trainer = build_trainer(recipe, stopped, quiet=True)
    trainer.callbacks.append(ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        trainer.fit()
    assert trainer.step == 2
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is put back
    assert checkpoint.latest_checkpoint(stopped / "checkpoints").name == "step-000002.safetensors"

    run_recipe(recipe, resume=stopped, quiet=True)
    for name in ("generator.safetensors", "generator-ema.safetensors", "discriminator.safetensors"):
        assert_same_tensors(full / name, stopped / name)


@pytest.mark.slow  # two fresh interpreters
def test_sigint_to_a_real_run_then_resume_is_bit_identical(tmp_path):
    steps = 600
    sets = tiny("vanilla-ring8", steps=steps)
    run_dir = tmp_path / "run"
    proc = start_cli("run", "vanilla-ring8", *set_args(sets), "--out", run_dir, cwd=tmp_path,
                     log=tmp_path / "run.log")
    try:
        metrics = run_dir / "metrics.jsonl"
        deadline = time.monotonic() + 150
        while not (metrics.is_file() and metrics.read_text().strip()):
            assert proc.poll() is None, (tmp_path / "run.log").read_text()
            assert time.monotonic() < deadline, "the run logged nothing in time"
            time.sleep(0.02)
        assert proc.poll() is None, "the run finished before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    log = (tmp_path / "run.log").read_text()
    assert code == 130, log
    assert "Traceback" not in log
    assert f"resume with: ganzoo run --resume {run_dir}" in log
    saved = checkpoint.latest_checkpoint(run_dir / "checkpoints")
    assert saved is not None, log
    stopped_at = checkpoint.load_checkpoint(saved)["step"]
    assert 1 <= stopped_at < steps
    assert metric_rows(run_dir)[-1]["step"] == stopped_at

    resumed = run_cli("run", "--resume", run_dir, "--quiet", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr

    reference = run_recipe(load_recipe("vanilla-ring8", sets), out=tmp_path / "reference", quiet=True).run_dir
    for name in ("generator.safetensors", "discriminator.safetensors"):
        assert_same_tensors(reference / name, run_dir / name)
    logged = [row["step"] for row in metric_rows(run_dir)]
    assert logged == list(range(1, steps + 1))  # every step once: no duplicates, no gaps


def test_interrupted_run_in_the_default_folder_says_how_to_resume(tmp_path, monkeypatch, capsys):
    import ganzoo.api

    seen = {}

    def interrupted(recipe, *, out=None, resume=None, quiet=False):
        seen["out"] = out
        raise KeyboardInterrupt

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(ganzoo.api, "run_recipe", interrupted)
    assert main(["run", "vanilla-ring8", "--quiet"]) == 130
    err = capsys.readouterr().err
    assert str(seen["out"]).startswith(os.path.join("runs", "vanilla-ring8-"))
    assert f"resume with: ganzoo run --resume {seen['out']}" in err
    assert "Traceback" not in err
