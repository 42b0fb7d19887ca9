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
               "--json", tmp_path / "q.json", "--guide", "drs", "--guide-quantile", "0.8", cwd=tmp_path)
    table = (tmp_path / "q.md").read_text()
    assert "| **vanilla-ring8** (ganzoo) | 2 | 3 |" in table
    # D-guided rows apart from plain ones, the knob in the name when it is not the default
    assert "| **vanilla-ring8 + drs (quantile 0.8)** (ganzoo) | 2 | 3 |" in table
    assert "- vanilla-ring8: mode-coverage/high_quality" in table  # 3 steps miss the aim, and say by how much
    assert "| PacGAN2 on ring8 | published | | 7.9 | 95.6 |" in table
    runs = [run for run in json.loads((tmp_path / "q.json").read_text()) if "guide" not in run]
    assert [run["seed"] for run in runs] == [1, 0]
    assert all(0 <= run["metrics"]["mode-coverage"]["modes"] <= 8 for run in runs)
    assert all((Path(run["run_dir"]) / "generator.safetensors").is_file() for run in runs)


def test_minibatch_std_benchmark_times_both_formulas_with_the_noise(tmp_path):
    done = run_script("minibatch_std.py", "--rounds", "1", "--calls", "1", cwd=tmp_path)
    rows = [line for line in done.stdout.splitlines() if line.startswith("| 128x64x4x4 |")]
    assert len(rows) == 1 and rows[0].count("|") == 7 and "x |" in rows[0]


def test_dcgan_layers_benchmark_times_each_layer_against_its_convolution(tmp_path):
    done = run_script("dcgan_layers.py", "--rounds", "1", "--calls", "1", cwd=tmp_path)
    rows = [line for line in done.stdout.splitlines() if line.startswith(("| G first layer", "| D head"))]
    assert len(rows) == 3 and all(row.count("|") == 8 and "x |" in row for row in rows)


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


def test_the_image_table_checks_each_recipes_aims_and_says_by_how_much():
    import importlib.util

    spec = importlib.util.spec_from_file_location("results", BENCHMARKS / "results.py")
    results = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(results)
    good = {"intra-class": {"diversity_min": 0.9}, "duplicates": {"rate_max": 0.0, "floor_max": 0.001},
            "conditional-accuracy": {"accuracy": 0.99}, "classifier-fd": {"fd_ratio": 2.5, "fd_floor": 1.2},
            "prdc": {"recall_ratio": 0.9, "coverage_ratio": 0.85, "precision": 0.9, "recall_floor": 0.96,
                     "coverage_floor": 0.64, "precision_floor": 0.93}}
    bad = {**good, "prdc": {**good["prdc"], "coverage_ratio": 0.59}, "duplicates": {"rate_max": 0.01, "floor_max": 0.001}}
    runs = [{"seed": 0, "steps": 10, "metrics": good}, {"seed": 1, "steps": 10, "metrics": bad}]
    assert results.misses(runs[:1], results.IMAGE_AIMS["cdcgan-digits"]) == []
    assert results.misses(runs, results.IMAGE_AIMS["cdcgan-digits"]) == [
        "prdc/coverage_ratio 0.59, aim >= 0.8 (seed 1)", "duplicates/rate_max 0.01, aim <= 0.001 (seed 1)"]
    text = "\n".join(results.image_section({"cdcgan-digits": runs}))
    assert "| no |" in text and "- cdcgan-digits: prdc/coverage_ratio 0.59, aim >= 0.8 (seed 1)" in text
    assert "recall 0.96" in text


def test_every_image_recipe_is_held_to_the_aims_of_its_kind():
    import importlib.util

    spec = importlib.util.spec_from_file_location("results", BENCHMARKS / "results.py")
    results = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(results)
    conditional = [{"seed": 0, "metrics": {"conditional-accuracy": {"accuracy": 0.99}}}]
    unconditional = [{"seed": 0, "metrics": {"class-coverage": {"classes": 10}}}]
    assert results.aims_of("acgan-digits", conditional) == results.CONDITIONAL_AIMS
    assert results.aims_of("wgan-digits", unconditional) == results.UNCONDITIONAL_AIMS
    assert ("prdc/coverage_ratio", ">=", 0.8) in results.aims_of("cdcgan-digits", conditional)
    assert ("infogan-codes/error", "<=", 0.05) in results.aims_of("infogan-digits", unconditional)
    assert results.aims_of("minimax-digits", unconditional) == []  # bad on purpose
    missed = results.misses([{"seed": 2, "metrics": {"classifier-fd": {"fd_ratio": 3.4}}}],
                            [("classifier-fd/fd_ratio", "<=", 3.0)])
    assert missed == ["classifier-fd/fd_ratio 3.4, aim <= 3 (seed 2)"]
    # as many duplicates as the real data, one ulp apart by the chunked mean: met; one more pair: missed
    same = {"duplicates": {"rate_max": 0.0015873015873015875, "floor_max": 0.0015873015873015873}}
    more = {"duplicates": {"rate_max": 0.0015873015873015873 * 1.001, "floor_max": 0.0015873015873015873}}
    aim = [("duplicates/rate_max", "<=", "duplicates/floor_max")]
    assert results.misses([{"seed": 2, "metrics": same}], aim) == []
    assert len(results.misses([{"seed": 2, "metrics": more}], aim)) == 1
