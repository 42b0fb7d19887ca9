"""The benchmark scripts run as a user runs them (a fresh ``python benchmarks/X.py`` process), here at toy
sizes: their figures are only checked for shape, the point is that the one command each still works."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers_training import cli_env

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
pytestmark = pytest.mark.skipif(not BENCHMARKS.is_dir(), reason="benchmarks/ is not shipped in the sdist")
TINY = ["--set", "generator.hidden_dims=[16]", "--set", "discriminator.hidden_dims=[16]"]


def run_script(name: str, *args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, str(BENCHMARKS / name), *map(str, args)], cwd=cwd, env=cli_env(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_results_trains_seeds_in_parallel_processes_and_writes_the_table(tmp_path):
    """Two seeds of vanilla-ring8 in two worker processes: one table row with both seeds, in seed order."""
    run_script("results.py", "--recipes", "vanilla-ring8", "--seeds", "1", "0", "--steps", "3", "-n", "200",
               "--jobs", "2", "--threads", "1", *TINY, "--runs", tmp_path / "runs", "--out", tmp_path / "q.md",
               "--json", tmp_path / "q.json", cwd=tmp_path)
    table = (tmp_path / "q.md").read_text()
    assert "| **vanilla-ring8** (ganzoo) | 2 | 3 |" in table
    assert "| PacGAN2 on ring8 | published | | 7.9 | 95.6 |" in table
    runs = json.loads((tmp_path / "q.json").read_text())
    assert [run["seed"] for run in runs] == [1, 0]
    assert all(0 <= run["metrics"]["mode-coverage"]["modes"] <= 8 for run in runs)
    assert all((Path(run["run_dir"]) / "generator.safetensors").is_file() for run in runs)


def test_startup_times_the_cli_and_sees_no_torch_import(tmp_path):
    done = run_script("startup.py", "-n", "1", "--json", tmp_path / "s.json", cwd=tmp_path)
    results = {row["command"]: row for row in json.loads((tmp_path / "s.json").read_text())["results"]}
    assert {"import ganzoo", "ganzoo --help", "ganzoo list"} <= results.keys()
    assert "ganzoo --help" in done.stdout
    assert not any(row["imports_torch"] for row in results.values())
    assert all(row["median_ms"] > 0 for row in results.values())


def test_results_started_twice_at_once_keeps_the_runs_apart(tmp_path):
    """Two invocations in the same second with one --runs folder: each gets its own folder, neither fails."""
    procs = [
        subprocess.Popen([sys.executable, str(BENCHMARKS / "results.py"), "--recipes", "vanilla-ring8", "--seeds",
                          "0", "--steps", "2", "-n", "100", "--threads", "1", *TINY, "--runs", str(tmp_path / "runs"),
                          "--out", str(tmp_path / f"q{i}.md")], cwd=tmp_path, env=cli_env(),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for i in range(2)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
    assert len(list((tmp_path / "runs").iterdir())) == 2
