"""metrics.jsonl has one reader, tolerant of a last line cut off mid-write (ganzoo/metrics_log.py), and a
resume after such a cut goes on, saying what it dropped."""

from __future__ import annotations

import json

import pytest
from helpers_training import set_args, tiny

from ganzoo.cli.main import main
from ganzoo.metrics_log import MetricsLog
from ganzoo.report import read_rows

pytestmark = pytest.mark.usefixtures("one_thread")


def test_a_cut_last_line_is_dropped_with_a_note(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 1, "d_loss": 1.0}\n{"step": 2, "d_loss": 0.5}\n{"step": 3, "d_lo')
    notes = []
    assert MetricsLog(path, note=notes.append).rows() == [{"step": 1, "d_loss": 1.0}, {"step": 2, "d_loss": 0.5}]
    assert len(notes) == 1 and "dropped the last line" in notes[0] and str(path) in notes[0]
    assert read_rows(tmp_path) == MetricsLog(path).rows()  # the report reads through the same reader


def test_a_bad_line_in_the_middle_is_named_by_number(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 1}\n[1, 2]\n{"step": 2}\n')
    notes = []
    assert [row["step"] for row in MetricsLog(path, note=notes.append).rows()] == [1, 2]
    assert notes == [f"{path}: dropped line 2, not a whole JSON row (cut off mid-write by a crash?)"]


def test_truncating_keeps_whole_rows_up_to_the_step(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 1}\n{"step": 2}\n{"step": 3}\n{"step": 4, "d_')
    MetricsLog(path).truncate_after(2)
    assert path.read_text() == '{"step": 1}\n{"step": 2}\n'


def test_resume_after_the_last_line_was_cut_mid_write(tmp_path, capsys):
    """A crash after step 3 was logged half-way: the step-4 checkpoint never written, metrics.jsonl ending
    in a cut line. ``ganzoo run --resume`` goes on from step 2, says it dropped the line, and the log ends
    with each step once."""
    run_dir = tmp_path / "run"
    sets = tiny("vanilla-ring8", steps=4, checkpoint_every=2)
    assert main(["run", "vanilla-ring8", *set_args(sets), "--out", str(run_dir), "--quiet"]) == 0
    (run_dir / "checkpoints" / "step-000004.safetensors").unlink()
    metrics = run_dir / "metrics.jsonl"
    lines = metrics.read_text().splitlines(keepends=True)
    assert [json.loads(line)["step"] for line in lines] == [1, 2, 3, 4]
    metrics.write_text("".join(lines[:2]) + lines[2][: len(lines[2]) // 2])  # step 3 cut, step 4 never written
    capsys.readouterr()

    assert main(["run", "--resume", str(run_dir)]) == 0
    out, err = capsys.readouterr()
    assert "dropped the last line" in out + err and "metrics.jsonl" in out + err
    assert "resumed" in out + err and "step 2" in out + err
    assert [json.loads(line)["step"] for line in metrics.read_text().splitlines()] == [1, 2, 3, 4]
