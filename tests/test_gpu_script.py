"""benchmarks/gpu.sh, the prepared GPU check, runs end to end on CPU at toy sizes (``--device cpu``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "gpu.sh"
pytestmark = pytest.mark.skipif(not SCRIPT.is_file(), reason="benchmarks/ is not shipped in the sdist")


def run_script(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHON": sys.executable, "OUT": str(tmp_path), "OMP_NUM_THREADS": "1"}
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=900)


def test_gpu_script_runs_on_cpu_in_its_tiny_mode(tmp_path):
    done = run_script(tmp_path, "--device", "cpu")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    result = json.loads((tmp_path / "throughput.json").read_text())
    rows = {row["case"]: row for row in result["rows"]}
    assert list(rows) == ["examples", "off", "channels_last", "bf16", "fused", "auto"]  # compile: GPU only
    assert all(row["images_per_s"] > 0 and row["ratio"] > 0 for row in rows.values())
    assert rows["examples"]["ratio"] == 1.0
    assert rows["off"]["paths"] == "none" and rows["auto"]["paths"] == "channels_last"
    assert "| auto | channels_last |" in (tmp_path / "throughput.md").read_text()
    (run,) = tmp_path.glob("run-*")
    last = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
    assert last["step"] == 4 and (run / "generator.safetensors").is_file()
    assert "trained in" in done.stdout and "on one cpu" in done.stdout


def test_gpu_script_refuses_an_unknown_device_in_one_line(tmp_path):
    done = run_script(tmp_path, "--device", "tpu")
    assert done.returncode == 2
    assert done.stderr.strip() == "gpu.sh: --device must be cuda or cpu, not tpu"
