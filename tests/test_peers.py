"""benchmarks/peers.py: its stand-in modules, its summary, and (slow, needs PyPI) the whole comparison in its
tiny mode, torchgan and Mimicry installed in a throwaway venv."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
pytestmark = pytest.mark.skipif(not (BENCHMARKS / "peers.py").is_file(), reason="benchmarks/ is not in the sdist")


@pytest.fixture
def peers(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import peers as module

    return module


def test_a_stand_in_imports_but_refuses_any_use(peers):
    import importlib.util

    module = peers.StandIn("tensorflow_for_a_test")
    with pytest.raises(RuntimeError, match="tensorflow_for_a_test.io: a benchmark stand-in"):
        module.io  # noqa: B018
    with pytest.raises(AttributeError):
        module.__path__  # noqa: B018  (dunder lookups stay AttributeError: import machinery probes them)
    sys.modules["tensorflow_for_a_test"] = module
    try:
        assert importlib.util.find_spec("tensorflow_for_a_test").origin is None  # what torch._dynamo reads
    finally:
        del sys.modules["tensorflow_for_a_test"]


def test_summary_pairs_each_round_with_its_plain_loop(peers):
    def run(cpu: float) -> dict:
        return {"cpu_ms_per_step": cpu, "wall_ms_per_step": 2 * cpu, "first_step_s": 1.0, "peak_rss_mb": 500.0}

    rounds = [{"plain": run(100), "plain-again": run(102), "ganzoo": run(80)},
              {"plain": run(120), "plain-again": run(118), "ganzoo": run(100)},
              {"plain": run(110), "plain-again": run(110), "ganzoo": run(88)}]
    rows = {row["case"]: row for row in peers.summarise(rounds, ["plain", "plain-again", "ganzoo"])}
    assert rows["plain"]["ratio"] == 1.0
    assert rows["ganzoo"]["ratio"] == pytest.approx(1.25)  # median of 1.25, 1.2, 1.25
    assert rows["ganzoo"]["cpu_ms_per_step"] == 88 and rows["ganzoo"]["rounds_cpu_ms"] == [80, 100, 88]
    args = peers.parse_args(["--tiny"])
    table = peers.render(list(rows.values()), args, "before", "after")
    assert "| ganzoo | 88.0 | 176.0 | 1.250 | 1.00 | 500 | 80, 100, 88 |" in table


@pytest.mark.slow
@pytest.mark.network  # builds a venv and installs torchgan, torch-mimicry and tensorboard from PyPI: network
def test_peers_tiny_mode_runs_every_framework(tmp_path):
    out = tmp_path / "peers.json"
    done = subprocess.run([sys.executable, str(BENCHMARKS / "peers.py"), "--tiny", "--venv", str(tmp_path / "venv"),
                           "--json", str(out)], capture_output=True, text=True, timeout=3600)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {row["case"]: row for row in json.loads(out.read_text())["rows"]}
    assert set(rows) == {"plain", "plain-again", "ganzoo", "torchgan", "mimicry"}
    assert all(row["cpu_ms_per_step"] > 0 and row["peak_rss_mb"] > 0 for row in rows.values())
