"""What the micro-benchmarks share (minibatch_std.py, dcgan_layers.py): their options, their first line, and
timing each case in turns so that load from other work falls on all of them alike."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable

import torch


def parse_args(description: str, calls: int) -> argparse.Namespace:
    """``--threads`` (default 1, set on torch here), ``--rounds`` and ``--calls`` per round."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=calls, help="forward+backward calls per round")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    return args


def banner(threads: int, note: str = "") -> None:
    """The date, machine, torch, threads and load average, as the first printed line."""
    print(f"{time.strftime('%Y-%m-%d %H:%M')}; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, torch {torch.__version__}, {threads} thread(s){note}; "
          f"load average {os.getloadavg()[0]:.2f}")


def interleaved_medians(cases: dict[str, Callable[[int], float]], rounds: int, calls: int) -> dict[str, float]:
    """Each case's median ms per call over ``rounds`` rounds, the cases timed in turns (ABC ABC ...) after a
    short warm-up; ``cases[name](calls)`` runs ``calls`` calls and returns ms per call."""
    for run in cases.values():
        run(5)
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, run in cases.items():
            times[name].append(run(calls))
    return {name: statistics.median(values) for name, values in times.items()}
