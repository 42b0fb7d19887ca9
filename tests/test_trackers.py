"""W&B (offline), MLflow (a SQLite store in the run folder) and Aim (a local repository) each get what TensorBoard
gets (tests/test_tracking.py): every metrics.jsonl figure, training and evaluation, as scalars, each sample grid as
an image, and the recipe as the run's configuration; a resumed run appends to the same tracker run. Each test
reads back what the tracker itself wrote to disk, through the tracker's own reader where it has one."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from helpers_training import set_args, tiny

from ganzoo.cli.main import main
from ganzoo.training import checkpoint

pytestmark = pytest.mark.usefixtures("one_thread")
EVAL = ["eval.every=2", 'eval.metrics=["mode-coverage"]', "eval.samples=200"]
STEPS = [2, 4, 6, 8]


def train_and_resume(run_dir: Path, tracker: str) -> dict[int, dict]:
    """Six steps, then a resume from step 4 (step 6's checkpoint lost) to step 8; metrics.jsonl by step."""
    sets = tiny("vanilla-ring8", steps=6, log_every=2, checkpoint_every=4, sample_every=2,
                extra=[f'train.log_with=["{tracker}"]', *EVAL])
    assert main(["run", "vanilla-ring8", *set_args(sets), "--out", str(run_dir), "--quiet"]) == 0
    first = json.loads((run_dir / "trackers.json").read_text())
    (run_dir / "checkpoints" / checkpoint.checkpoint_path(run_dir / "checkpoints", 6).name).unlink()
    assert main(["run", "--resume", str(run_dir), "--set", "train.steps=8", "--quiet"]) == 0
    assert json.loads((run_dir / "trackers.json").read_text()) == first  # the same tracker run, reopened
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    by_step: dict[int, dict] = {}
    for row in rows:
        by_step.setdefault(row["step"], {}).update(row)
    return by_step


def last_by_step(points) -> dict[int, float]:
    """``(step, value)`` points as ``{step: value}``, a step logged again (after a resume) by its last value."""
    return {int(step): float(value) for step, value in points}


def check_figures(logged: dict[str, dict[int, float]], rows: dict[int, dict]) -> None:
    for tag, key in (("train/d_loss", "d_loss"), ("train/g_loss", "g_loss"), ("train/images_per_s", "images_per_s"),
                     ("eval/mode-coverage/modes", "mode-coverage/modes"),
                     ("eval/mode-coverage/high_quality", "mode-coverage/high_quality")):
        assert sorted(logged[tag]) == STEPS, tag
        assert [logged[tag][s] for s in STEPS] == pytest.approx([rows[s][key] for s in STEPS]), tag


# ---------------------------------------------------------------- Weights & Biases, offline
def wandb_records(path: Path):
    """The protobuf records of a ``.wandb`` file: a 7-byte W&B header, then LevelDB's log format (32 KiB blocks,
    records of crc32c, length, type; FIRST/MIDDLE/LAST pieces joined). wandb ships no Python reader of it now."""
    from wandb.proto import wandb_internal_pb2

    data, block = path.read_bytes(), 32768
    assert data[:4] == b":W&B"
    pos, pieces = 7, b""
    while pos + 7 <= len(data):
        if block - pos % block < 7:  # a block's tail too short for a header is padding
            pos += block - pos % block
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos:pos + 7])
        if kind == 0 and length == 0:
            break
        piece, pos = data[pos + 7:pos + 7 + length], pos + 7 + length
        pieces = piece if kind in (1, 2) else pieces + piece
        if kind in (1, 4):  # FULL or LAST
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pieces)
            yield record


def test_wandb_offline_gets_figures_grids_and_config_and_resume_appends(tmp_path, monkeypatch):
    pytest.importorskip("wandb", reason="wandb is not installed (pip install wandb, or the trackers extra)")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    run_dir = tmp_path / "run"
    rows = train_and_resume(run_dir, "wandb")
    run_id = json.loads((run_dir / "trackers.json").read_text())["wandb"]
    files = sorted((run_dir / "wandb").rglob("offline-run-*/run-*.wandb"))
    assert len(files) == 2 and all(f.name == f"run-{run_id}.wandb" for f in files)  # one run, opened twice
    history: dict[str, list[tuple[int, float]]] = {}
    config: dict[str, object] = {}
    images = []
    for path in files:
        for record in wandb_records(path):
            kind = record.WhichOneof("record_type")
            if kind == "run":
                assert record.run.run_id == run_id
            if kind == "config":
                config.update({u.key or "/".join(u.nested_key): json.loads(u.value_json) for u in record.config.update})
            if kind == "history":
                items = {i.key or "/".join(i.nested_key): json.loads(i.value_json) for i in record.history.item}
                step = items["_step"]
                for key, value in items.items():
                    if isinstance(value, (int, float)) and "/" in key and not key.startswith("samples"):
                        history.setdefault(key, []).append((step, value))
                if "samples/filenames" in items:
                    images.append((step, items["samples/filenames"][0]))
    check_figures({tag: last_by_step(points) for tag, points in history.items()}, rows)
    assert config["train.steps"] == 6 and config["name"] == "vanilla-ring8"
    assert sorted({step for step, _ in images}) == STEPS
    media = {p.name for p in (run_dir / "wandb").rglob("media/images/*.png")}
    assert {Path(name).name for _, name in images} <= media


# ---------------------------------------------------------------- MLflow, SQLite store in the run folder
def test_mlflow_gets_figures_grids_and_config_and_resume_appends(tmp_path):
    pytest.importorskip("mlflow", reason="mlflow is not installed (pip install mlflow, or the trackers extra)")
    from mlflow.tracking import MlflowClient

    run_dir = tmp_path / "run"
    rows = train_and_resume(run_dir, "mlflow")
    run_id = json.loads((run_dir / "trackers.json").read_text())["mlflow"]
    client = MlflowClient(tracking_uri=f"sqlite:///{run_dir / 'mlflow' / 'mlflow.db'}")
    run = client.get_run(run_id)
    logged = {tag: last_by_step((m.step, m.value) for m in client.get_metric_history(run_id, tag))
              for tag in run.data.metrics}
    check_figures(logged, rows)
    assert run.data.params["train.steps"] == "6" and run.data.params["name"] == "vanilla-ring8"
    grids = sorted(a.path for a in client.list_artifacts(run_id, "samples"))
    assert grids == [f"samples/step-{s:06d}.png" for s in STEPS]
    assert len(client.search_runs([run.info.experiment_id])) == 1  # the resume reopened it, made no second run


# ---------------------------------------------------------------- Aim, a local repository
def test_aim_gets_figures_grids_and_config_and_resume_appends(tmp_path):
    pytest.importorskip("aim", reason="aim is not installed (pip install aim, or the trackers extra)")
    from aim import Repo
    from aim.sdk.index_manager import RepoIndexManager
    from aim.storage.context import Context

    run_dir = tmp_path / "run"
    rows = train_and_resume(run_dir, "aim")
    run_hash = json.loads((run_dir / "trackers.json").read_text())["aim"]
    repo = Repo(str(run_dir / "aim"))
    assert repo.list_all_runs() == [run_hash]  # the resume reopened it, made no second run
    RepoIndexManager.get_index_manager(repo).index(run_hash)  # what `aim up` does before it shows a finished run
    run = Repo(str(run_dir / "aim")).get_run(run_hash)
    logged = {}
    for metric in run.metrics():
        if not metric.name.startswith("__system__"):
            steps, (values, _, _) = metric.data.items_list()
            logged[metric.name] = last_by_step(zip(steps, values))
    check_figures(logged, rows)
    assert run["hparams"]["train.steps"] == 6 and run["hparams"]["name"] == "vanilla-ring8"
    sequence = run.get_image_sequence("samples", Context({}))
    assert sequence is not None, "no image sequence 'samples'"
    steps, (images, _, _) = sequence.data.items_list()
    assert sorted(set(steps)) == STEPS and images[-1].to_pil_image().width > 100
