"""What a person watches during and after a run: sample grids big enough to judge, scatter plots over the
real data, labelled curves with a throughput panel, progress with early figures and an ETA from recent
steps, and one message on Ctrl-C."""

from __future__ import annotations

import signal

import numpy as np
import pytest
import torch
from helpers_training import set_args, tiny
from PIL import Image

from ganzoo.cli.main import main
from ganzoo.training.artifacts import MIN_TILE, auto_scale, curves_figure, grid_layout, save_grid
from ganzoo.training.progress import Eta, Progress, format_duration

pytestmark = pytest.mark.usefixtures("one_thread")


def _tiles(path, columns: int, rows: int, scale: int) -> tuple[float, float]:
    """Tile width and height of a torchvision grid with padding ``max(2, scale)``."""
    width, height = Image.open(path).size
    pad = max(2, scale)
    return (width - pad) / columns - pad, (height - pad) / rows - pad


# ---------------------------------------------------------------- grids
def test_main_recipe_grid_tiles_are_at_least_48_px(tmp_path, capsys):
    run_dir = tmp_path / "run"
    sets = tiny("cdcgan-digits", steps=1, extra=["train.grid_size=64"])  # the recipe's own grid size
    assert main(["run", "cdcgan-digits", *set_args(sets), "--out", str(run_dir), "--quiet"]) == 0
    grid = run_dir / "samples" / "step-000001.png"
    # 10 classes, 6 per row; 16x16 digits enlarged 3 times
    tile_w, tile_h = _tiles(grid, columns=6, rows=10, scale=3)
    assert tile_w == tile_h == 48 >= MIN_TILE
    pixels = np.asarray(Image.open(grid).convert("L"))
    tile = pixels[3:3 + 48, 3:3 + 48]
    assert (tile[::3, ::3].repeat(3, 0).repeat(3, 1) == tile).all()  # nearest neighbour: 3x3 blocks

    out = tmp_path / "threes.png"
    assert main(["sample", str(run_dir), "-n", "16", "--class", "3", "--out", str(out)]) == 0
    assert _tiles(out, columns=4, rows=4, scale=3) == (48, 48)
    assert main(["sample", str(run_dir), "-n", "16", "--class", "3", "--scale", "1", "--out", str(out)]) == 0
    assert Image.open(out).size == (4 * 18 + 2, 4 * 18 + 2)  # native 16 px tiles
    assert main(["sample", str(run_dir), "-n", "4", "--scale", "0", "--out", str(out)]) == 2
    capsys.readouterr()


def test_long_rows_wrap_and_classes_keep_their_own_rows(tmp_path):
    assert grid_layout(64, None) == (8, 64)
    assert grid_layout(400, None) == (16, 400)  # never wider than 16
    assert grid_layout(64, 2) == (16, 32)  # 2 classes of 32: each on two rows of 16
    assert grid_layout(34, 2) == (9, 17)  # 17 per class: rows of 9, the last one padded
    samples = -torch.ones(34, 1, 32, 32)  # black tiles; padding and blank tiles are white
    path = save_grid(samples, tmp_path / "g.png", rows=2)
    assert Image.open(path).size == (9 * 66 + 2, 4 * 66 + 2)  # 32 px tiles enlarged twice, 4 rows
    pixels = np.asarray(Image.open(path).convert("L"))
    centre = lambda row, col: pixels[2 + row * 66 + 32, 2 + col * 66 + 32]  # noqa: E731
    assert centre(1, 7) == 0 and centre(1, 8) == 255  # class 0's second row: 8 tiles, then a blank
    assert centre(2, 0) == 0  # class 1 starts on a fresh row
    assert auto_scale(8, 8) == 6 and auto_scale(64, 64) == 1 and auto_scale(28, 28) == 2


def test_two_d_samples_are_drawn_over_the_real_points(tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert main(["run", "vanilla-ring8", *set_args(tiny("vanilla-ring8", steps=1)), "--out", str(run_dir),
                 "--quiet"]) == 0
    out = tmp_path / "ring.png"
    assert main(["sample", str(run_dir), "-n", "200", "--out", str(out)]) == 0
    rgb = np.asarray(Image.open(out).convert("RGB")).astype(int)
    blue = (rgb[..., 2] > rgb[..., 0] + 40).sum()  # tab:blue real points (the generated ones are red)
    red = (rgb[..., 0] > rgb[..., 2] + 40).sum()
    assert blue > 200 and red > 50, (blue, red)
    capsys.readouterr()


# ---------------------------------------------------------------- curves
def test_curves_have_labelled_axes_a_throughput_panel_and_a_labelled_half_line():
    rows = [{"step": s, "d_loss": 1.3, "g_loss": 0.8, "d_real": 0.6, "d_fake": 0.4, "images_per_s": 900.0 + s,
             "d_output": "probability"} for s in (10, 20, 30)]
    figure = curves_figure(rows)
    losses, outputs, throughput = figure.axes
    assert all(ax.get_xlabel() == "step" and ax.get_ylabel() for ax in figure.axes)
    assert "images per second" in throughput.get_ylabel()
    assert list(throughput.lines[0].get_ydata()) == [910.0, 920.0, 930.0]
    labels = [text.get_text() for text in outputs.get_legend().get_texts()]
    assert any(label.startswith("1/2") for label in labels), labels
    raw = curves_figure([{**row, "d_output": "raw"} for row in rows])
    assert not any(t.get_text().startswith("1/2") for t in raw.axes[1].get_legend().get_texts())
    assert curves_figure([]) is None


# ---------------------------------------------------------------- progress
def test_eta_comes_from_recent_steps_not_the_slow_start():
    now = [0.0]
    eta = Eta(1000, clock=lambda: now[0])
    now[0] = 30.0  # step 1 took 30 s (imports, warm-up); the mark is taken when it ends
    eta.mark(1)
    for step in range(2, 101):  # then 0.05 s a step
        now[0] += 0.05
        eta.mark(step)
    assert eta.seconds_left() == pytest.approx(900 * 0.05)  # not 900 * 30.05 / 100
    for step in range(101, 401):  # it speeds up: the window follows
        now[0] += 0.01
        eta.mark(step)
    assert eta.seconds_left() == pytest.approx(600 * 0.01)
    assert format_duration(3725) == "1:02:05" and format_duration(None) == "-:--:--"


def test_plain_progress_shows_training_and_evaluation_figures_with_an_eta(capsys):
    progress = Progress(100)
    progress.advance(1)
    progress.advance(2)
    progress.log({"step": 2, "d_loss": 1.0, "g_loss": 2.0, "d_real": 0.5, "d_fake": 0.5, "images_per_s": 10.0})
    progress.log({"step": 2, "mode-coverage/modes": 8.0, "mode-coverage/high_quality": 0.5})
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("step 2/100  d_loss 1.0000") and " eta " in lines[0]
    assert "mode-coverage/modes 8" in lines[1]


def test_ctrl_c_says_one_thing_once(tmp_path, monkeypatch, capsys):
    """A real SIGINT to this process in the middle of a run: the trainer finishes the step and saves, and
    exactly one line says so, with the step and how to resume."""
    import ganzoo.evaluation.callback as callback

    def interrupt_at_step_2(trainer):
        if trainer.step == 2:
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(callback, "eval_callbacks", lambda options, seed=0: [interrupt_at_step_2])
    run_dir = tmp_path / "run"
    code = main(["run", "vanilla-ring8", *set_args(tiny("vanilla-ring8", steps=50)), "--out", str(run_dir)])
    assert code == 130
    err = capsys.readouterr().err
    said = [line for line in err.splitlines() if "interrupt" in line]
    assert said == [f"ganzoo: interrupted at step 2; checkpoint saved; resume with: ganzoo run --resume {run_dir}"], err


def test_live_display_peeks_at_figures_before_the_first_log(monkeypatch):
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    progress = Progress(100)
    try:
        assert progress.live
        figures = lambda: progress._bar.tasks[0].fields["figures"]  # noqa: E731
        progress.advance(1)
        assert progress.wants_early(1) and not progress.wants_early(3)
        progress.early({"step": 1, "d_loss": 1.0, "g_loss": 2.0, "d_real": 0.5, "d_fake": 0.5, "images_per_s": 10.0})
        assert "d_loss 1.0000" in figures() and figures().endswith("@1")
        progress.log({"step": 50, "d_loss": 0.9, "g_loss": 2.0, "d_real": 0.5, "d_fake": 0.5, "images_per_s": 10.0})
        assert not progress.wants_early(2) and "@" not in figures()  # logged figures from now on
        progress.log({"step": 50, "mode-coverage/modes": 7.0})
        assert figures().splitlines()[0].startswith("d_loss 0.9000") and "mode-coverage/modes 7" in figures()
    finally:
        progress.close()
