"""``eval.keep_best``: the generator of the best evaluation is kept as a self-describing file, the
direction comes from the metric, bad names stop before training, and curves.png gains an evaluation panel."""

from __future__ import annotations

import json

import pytest
from safetensors import safe_open

from ganzoo.cli.main import main
from ganzoo.evaluation.best import direction, is_best

TINY = ["--set", "generator.hidden_dims=[16]", "--set", "discriminator.hidden_dims=[16]", "--quiet"]


def test_is_best_follows_the_declared_direction_and_keeps_the_first_on_ties():
    rows = [{"step": 1, "m/fd": 5.0}, {"step": 2, "d_loss": 1.0}, {"step": 2, "m/fd": 3.0}]
    assert is_best(rows, "m/fd", "lower", 2) and not is_best(rows, "m/fd", "higher", 2)
    assert is_best(rows[:1], "m/fd", "higher", 1)  # the first evaluation is the best so far
    assert not is_best([*rows, {"step": 3, "m/fd": 3.0}], "m/fd", "lower", 3)  # a tie keeps the earlier one
    assert not is_best(rows, "m/fd", "lower", 1)  # not the latest evaluation


def test_direction_comes_from_the_metric():
    class Metric:
        better = {"fd": "lower"}

    assert direction({"m": Metric()}, "m/fd") == "lower"
    with pytest.raises(Exception, match="allowed: m/fd"):
        direction({"m": Metric()}, "m/fd_floor")


@pytest.fixture(scope="module")
def kept_run(tmp_path_factory):
    patch = pytest.MonkeyPatch()
    patch.setenv("GANZOO_CACHE", str(tmp_path_factory.mktemp("cache")))
    out = tmp_path_factory.mktemp("runs") / "ring"
    assert main(["run", "vanilla-ring8", "--set", "train.steps=8", *TINY, "--out", str(out), "--set", "eval.every=2",
                 "--set", "eval.samples=300", "--set", 'eval.keep_best="mode-coverage/high_quality"']) == 0
    yield out
    patch.undo()


def test_the_best_evaluation_is_kept_as_its_own_weights_file(kept_run, tmp_path):
    rows = [json.loads(line) for line in (kept_run / "metrics.jsonl").read_text().splitlines()]
    scored = [(row["mode-coverage/high_quality"], -row["step"]) for row in rows if "mode-coverage/high_quality" in row]
    best_value, best_step = max(scored)[0], -max(scored)[1]
    path = kept_run / "generator-best.safetensors"
    with safe_open(str(path), framework="pt") as handle:
        meta = handle.metadata()
    best = json.loads(meta["ganzoo.best"])
    assert best == {"figure": "mode-coverage/high_quality", "value": best_value, "better": "higher", "step": best_step}
    assert json.loads(meta["ganzoo.step"]) == best_step and json.loads(meta["ganzoo.role"]) == "generator-ema"
    assert main(["sample", str(path), "-n", "8", "--out", str(tmp_path / "best.npy")]) == 0


def test_curves_png_gains_an_evaluation_panel(kept_run):
    from PIL import Image

    width, height = Image.open(kept_run / "curves.png").size
    assert width > 4.4 * height  # four panels side by side (three without evaluations: 3.75 to 1)


@pytest.mark.parametrize("value,message", [
    ("mode-coverage", 'expected "metric/figure"'),
    ("mode-coverag/modes", "did you mean"),
    ("mode-coverage/total_modes", "allowed: mode-coverage/modes"),
])
def test_a_bad_keep_best_is_one_line_before_anything_is_written(tmp_path, capsys, value, message):
    out = tmp_path / "run"
    capsys.readouterr()
    code = main(["run", "vanilla-ring8", "--set", "train.steps=2", *TINY, "--out", str(out),
                 "--set", "eval.every=1", "--set", f'eval.keep_best="{value}"'])
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_keep_best_without_evaluations_is_rejected(tmp_path, capsys):
    assert main(["validate", "vanilla-ring8", "--set", 'eval.keep_best="mode-coverage/modes"']) == 2
    assert "needs eval.every > 0" in capsys.readouterr().err
