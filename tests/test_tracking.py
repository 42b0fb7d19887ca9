"""Experiment trackers: ``train.log_with = ["tensorboard"]`` leaves event files that TensorBoard itself reads
back (scalars, sample images, the recipe), a resumed run appends to the same run, and a tracker named but not
installed is one line at validation."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from helpers_training import assert_one_line_error, set_args, tiny

from ganzoo.cli.main import main
from ganzoo.training import checkpoint
from ganzoo.training.tracking import flat_config, missing_tracker, scalars

pytestmark = pytest.mark.usefixtures("one_thread")
TB = ['train.log_with=["tensorboard"]']
EVAL = ["eval.every=2", 'eval.metrics=["mode-coverage"]', "eval.samples=200"]


def _events(run_dir):
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    folder = run_dir / "tensorboard"
    accumulator = event_accumulator.EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0})
    accumulator.Reload()
    return accumulator


def _steps(accumulator, tag):
    return [event.step for event in accumulator.Scalars(tag)]


def test_tensorboard_gets_scalars_images_and_recipe_and_resume_appends(tmp_path, capsys):
    pytest.importorskip("tensorboard")
    run_dir = tmp_path / "run"
    sets = tiny("vanilla-ring8", steps=6, log_every=2, checkpoint_every=4, sample_every=2, extra=TB + EVAL)
    assert main(["run", "vanilla-ring8", *set_args(sets), "--out", str(run_dir), "--quiet"]) == 0
    events = _events(run_dir)
    tags = events.Tags()
    for tag in ("train/d_loss", "train/g_loss", "train/d_real", "train/d_fake", "train/images_per_s",
                "eval/mode-coverage/modes", "eval/mode-coverage/high_quality"):
        assert tag in tags["scalars"], (tag, tags["scalars"])
    assert _steps(events, "train/d_loss") == [2, 4, 6]
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    logged = {row["step"]: row["d_loss"] for row in rows if "d_loss" in row}
    assert [e.value for e in events.Scalars("train/d_loss")] == pytest.approx([logged[s] for s in (2, 4, 6)])
    assert _steps(events, "eval/mode-coverage/modes") == [2, 4, 6]
    assert "samples" in tags["images"]
    images = events.Images("samples")
    assert [image.step for image in images] == [2, 4, 6]
    assert images[0].encoded_image_string[:8] == b"\x89PNG\r\n\x1a\n" and images[0].width > 100
    config = list((run_dir / "tensorboard").glob("*/hparams.yml"))
    assert len(config) == 1 and "train.steps: 6" in config[0].read_text()

    # a crash after step 6 was logged but before its checkpoint: the newest checkpoint left is step 4
    (run_dir / "checkpoints" / checkpoint.checkpoint_path(run_dir / "checkpoints", 6).name).unlink()
    assert main(["run", "--resume", str(run_dir), "--set", "train.steps=8", "--quiet"]) == 0
    events = _events(run_dir)
    assert _steps(events, "train/d_loss") == [2, 4, 6, 8]  # step 6 again, once: the first one was purged
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    logged = {row["step"]: row["d_loss"] for row in rows if "d_loss" in row}
    assert [e.value for e in events.Scalars("train/d_loss")] == pytest.approx([logged[s] for s in (2, 4, 6, 8)])
    assert [image.step for image in events.Images("samples")] == [2, 4, 6, 8]
    assert len(list((run_dir / "tensorboard").glob("*/hparams.yml"))) == 1  # the recipe is stored once
    capsys.readouterr()


def test_tensorboard_cli_reads_the_run(tmp_path):
    """What a user runs: ``tensorboard --inspect --logdir`` finds the run's scalars and images."""
    pytest.importorskip("tensorboard")
    run_dir = tmp_path / "run"
    sets = tiny("cdcgan-digits", steps=2, log_every=1, extra=TB)
    assert main(["run", "cdcgan-digits", *set_args(sets), "--out", str(run_dir), "--quiet"]) == 0
    result = subprocess.run([sys.executable, "-m", "tensorboard.main", "--inspect", "--logdir", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = result.stdout + result.stderr
    assert "train/d_loss" in report and "samples" in report, report


def test_a_tracker_not_installed_is_one_line_at_validation(capsys):
    missing = next((name for name in ("wandb", "mlflow", "aim") if missing_tracker([name])), None)
    if missing is None:
        pytest.skip("wandb, mlflow and aim are all installed here")
    assert main(["validate", "vanilla-ring8", "--set", f'train.log_with=["{missing}"]']) == 2
    assert_one_line_error(capsys.readouterr().err, "train.log_with[0]", f"pip install {missing}")


def test_unknown_tracker_lists_the_allowed_ones(capsys):
    assert main(["validate", "vanilla-ring8", "--set", 'train.log_with=["tensorbord"]']) == 2
    assert_one_line_error(capsys.readouterr().err, "train.log_with[0]", "'tensorboard'", "'wandb'", "'aim'")


def test_validation_of_log_with_imports_no_torch(tmp_path):
    code = ("import sys; from ganzoo.recipe import load_recipe; load_recipe('vanilla-ring8', "
            "['train.log_with=[\"tensorboard\"]']); print('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stdout + result.stderr


def test_scalars_and_config_are_what_trackers_take():
    row = {"step": 5, "d_loss": 1.2, "g_loss": 0.7, "d_output": "probability", "processes": 1,
           "modes/modes": 8.0, "modes/reverse_kl": None}
    assert scalars(row) == {"train/d_loss": 1.2, "train/g_loss": 0.7, "eval/modes/modes": 8.0}
    assert flat_config({"name": "r", "train": {"steps": 3, "log_with": ["tensorboard"]}}) == {
        "name": "r", "train.steps": 3, "train.log_with": '["tensorboard"]'}
