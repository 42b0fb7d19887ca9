"""Images per second of the shipped models across batch sizes and threads, where the time goes, and what
each fast path buys.

    python benchmarks/throughput.py                                  # all three parts, the offline recipes
    python benchmarks/throughput.py --parts throughput --batch-sizes 64 256 --threads 1 2
    python benchmarks/throughput.py --parts breakdown --recipes dcgan-digits
    python benchmarks/throughput.py --parts fast-paths --recipes dcgan-digits --json fast.json

Images per second counts real images through D, as the trainer's own ``images_per_s`` does:
steps x batch_size x d_steps x grad_accum / seconds. Every figure is a median over ``--reps`` timed chunks
of about ``--seconds`` each, after an untimed warm-up; the trainer runs as ``ganzoo run`` runs it
(``Trainer.fit``), with no run directory (nothing written to disk) and ``train.device`` as given.

- throughput: each recipe at each batch size and thread count.
- breakdown: one step split into data, noise, G forward, D forward, loss, penalty, backward, optimiser,
  clipping, EMA, logging and the trainer's own Python ("other": the step's code that no part claims),
  in milliseconds per generator step, for the critic steps, the generator step and between steps
  ("fit() loop": the rest of the wall time, fit's own loop). Each part is timed
  exclusively (a part inside another is not counted twice). On a GPU every timer synchronises, which
  slows the run a little; on a CPU the timers are all there is.
- fast-paths: each switch a recipe can turn on (torch.compile, channels_last, bf16 autocast, foreach and
  fused optimisers), each choice of what G's step feeds a BatchNorm D (g-reused, g-fakes, g-eval) and
  ``train.fast = "auto"`` (auto, auto+g-eval, auto+g-fresh, and auto+fresh-fakes: G's step on fresh z,
  ``train.g_step_fakes = "fresh"``) against the same recipe with ``train.fast =
  "off"`` and nothing switched on, all built side by side and timed in turns, so
  load from other jobs falls on all of them alike. torch.compile's compiling happens in the warm-up and is
  reported on its own ("warm-up s"), with inductor's on-disk cache empty unless ``--warm-compile-cache``.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

if "TORCHINDUCTOR_CACHE_DIR" not in os.environ and "--warm-compile-cache" not in sys.argv:
    # torch.compile's time as a first run sees it: inductor's on-disk cache starts empty (set before torch loads)
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="ganzoo-bench-inductor-")
    atexit.register(shutil.rmtree, os.environ["TORCHINDUCTOR_CACHE_DIR"], ignore_errors=True)
from collections import defaultdict
from pathlib import Path
from typing import Any

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from overhead import build_ganzoo, build_recipe, machine  # noqa: E402

RECIPES = ["vanilla-ring8", "cmlp-digits", "dcgan-digits", "cdcgan-digits", "wgan-gp-digits"]
BATCH_SIZES = [32, 64, 128, 256]
OFF = ['train.fast="off"']  # every single switch is measured against the recipe with nothing added
FAST_PATHS: dict[str, list[str]] = {
    "baseline": OFF,
    "baseline-again": OFF,  # a second copy: the A/A noise floor
    "compile": OFF + ["train.compile=true"],
    "channels_last": OFF + ["train.channels_last=true"],  # image models only
    "bf16": OFF + ['train.mixed_precision="bf16"'],
    "foreach": OFF + ['optim.generator.implementation="foreach"', 'optim.discriminator.implementation="foreach"'],
    "fused": OFF + ['optim.generator.implementation="fused"', 'optim.discriminator.implementation="fused"'],
    # what G's step feeds a BatchNorm D (train.g_step_batchnorm; "fresh-reals" is the baseline's)
    "g-reused": OFF + ['train.g_step_batchnorm="reused-reals"'],
    "g-fakes": OFF + ['train.g_step_batchnorm="fakes"'],
    "g-eval": OFF + ['train.g_step_batchnorm="eval"'],
    # the defaults: train.fast = "auto", with each G-step choice
    "auto": ['train.fast="auto"'],
    "auto+g-eval": ['train.fast="auto"', 'train.g_step_batchnorm="eval"'],
    "auto+g-fresh": ['train.fast="auto"', 'train.g_step_batchnorm="fresh-reals"'],
    # which fakes G's step trains on (train.g_step_fakes): the default "shared" is in "auto"
    "auto+fresh-fakes": ['train.fast="auto"', 'train.g_step_fakes="fresh"'],
}
DEFAULT_FAST_PATHS = ["baseline", "compile", "channels_last", "bf16", "foreach", "fused"]


def images_per_step(trainer: Any) -> int:
    c = trainer.config
    return c.batch_size * c.d_steps * c.grad_accum * trainer.world


def run_chunk(trainer: Any, steps: int) -> float:
    """Seconds for ``steps`` more steps of ``fit``."""
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    trainer.fit(until=trainer.step + steps)
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def steps_for(trainer: Any, seconds: float, warmup: int) -> tuple[int, float]:
    """Warm up (timed: compiling happens here), then the number of steps that take about ``seconds``."""
    start = time.perf_counter()
    run_chunk(trainer, warmup)
    warm = time.perf_counter() - start
    probe = max(2, warmup // 2)
    rate = probe / run_chunk(trainer, probe)
    return max(2, int(rate * seconds)), warm


# ------------------------------------------------------------------ part 1: throughput
def part_throughput(args: argparse.Namespace, device_sets: list[str]) -> list[dict[str, Any]]:
    rows = []
    print(f"\n## throughput (images/s, median of {args.reps})")
    print(f"{'recipe':16} {'batch':>5} {'threads':>7} {'images/s':>10} {'steps/s':>8}")
    for name in args.recipes:
        for batch in args.batch_sizes:
            for threads in args.threads:
                torch.set_num_threads(threads)
                try:
                    trainer = build_ganzoo(build_recipe(name, device_sets + [f"train.batch_size={batch}"]))
                except Exception as err:  # a batch larger than the data, say
                    print(f"{name:16} {batch:>5} {threads:>7}  skipped: {err}")
                    continue
                steps, _ = steps_for(trainer, args.seconds, args.warmup)
                times = [run_chunk(trainer, steps) for _ in range(args.reps)]
                rate = steps / statistics.median(times)
                row = {"recipe": name, "batch_size": batch, "threads": threads, "steps_s": rate,
                       "images_s": rate * images_per_step(trainer), "device": str(trainer.device)}
                rows.append(row)
                print(f"{name:16} {batch:>5} {threads:>7} {row['images_s']:>10.0f} {rate:>8.2f}", flush=True)
                del trainer
    return rows


# ------------------------------------------------------------------ part 2: where the time goes
class Clock:
    """Exclusive timers: time spent in a part nested inside another is the inner part's only."""

    def __init__(self, cuda: bool) -> None:
        self.cuda = cuda
        self.phase = "other"
        self.totals: dict[tuple[str, str], float] = defaultdict(float)
        self._stack: list[list[float]] = []

    def _now(self) -> float:
        if self.cuda:
            torch.cuda.synchronize()
        return time.perf_counter()

    def wrap(self, part: str, fn: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            frame = [self._now(), 0.0]
            self._stack.append(frame)
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = self._now() - frame[0]
                self._stack.pop()
                self.totals[(self.phase, part)] += elapsed - frame[1]
                if self._stack:
                    self._stack[-1][1] += elapsed

        return timed

    def in_phase(self, phase: str, fn: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            before, self.phase = self.phase, phase
            try:
                return fn(*args, **kwargs)
            finally:
                self.phase = before

        return run


class TimedModule(nn.Module):
    """Times a model's forward. ``_orig_mod`` points past the timer (and past torch.compile), as the gradient
    penalty expects of a compiled critic: its forward is timed as part of the penalty."""

    def __init__(self, inner: nn.Module, clock: Clock, part: str) -> None:
        super().__init__()
        self.inner = inner
        self._orig_mod = getattr(inner, "_orig_mod", inner)
        self._timed = clock.wrap(part, inner)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self._timed(*args, **kwargs)


class TimedBatches:
    def __init__(self, batches: Any, clock: Clock) -> None:
        self.batches = batches
        self._next = clock.wrap("data", lambda: next(batches))

    def __next__(self) -> Any:
        return self._next()

    def __iter__(self) -> TimedBatches:
        return self

    def state_dict(self) -> dict[str, Any]:
        return self.batches.state_dict()


def instrument(trainer: Any) -> Clock:
    """Put timers around the parts of the trainer's step (this instance only)."""
    clock = Clock(trainer.device.type == "cuda")
    trainer.batches = TimedBatches(trainer.batches, clock)
    trainer._z = clock.wrap("noise", trainer._z)
    trainer._labels = clock.wrap("noise", trainer._labels)
    trainer.g_model = TimedModule(trainer.g_model, clock, "G forward")
    trainer.d_model = TimedModule(trainer.d_model, clock, "D forward")
    trainer._backward = clock.wrap("backward", trainer._backward)
    trainer._optimizer_step = clock.wrap("optimiser", trainer._optimizer_step)
    for method in ("d_objective", "g_objective"):
        setattr(trainer.loss, method, clock.wrap("loss", getattr(trainer.loss, method)))
    trainer._penalties = clock.wrap("penalty", trainer._penalties)
    for regularization in trainer.regularizations:
        regularizer = regularization.regularizer
        regularizer.after_d_step = clock.wrap("clipping", regularizer.after_d_step)
    if trainer.ema is not None:
        trainer.ema.update_parameters = clock.wrap("EMA", trainer.ema.update_parameters)
    trainer._log = clock.wrap("logging", trainer._log)
    trainer.figures.fold = clock.wrap("logging", trainer.figures.fold)
    trainer.discriminator_step = clock.in_phase("critic steps", trainer.discriminator_step)
    trainer.generator_step = clock.in_phase("generator step", trainer.generator_step)
    trainer.train_step = clock.wrap("other", trainer.train_step)  # the step's own Python: what no part claims
    return clock


PARTS = ["data", "noise", "G forward", "D forward", "loss", "penalty", "backward", "optimiser", "clipping", "EMA",
         "logging", "other"]


def part_breakdown(args: argparse.Namespace, device_sets: list[str]) -> list[dict[str, Any]]:
    rows = []
    threads = max(args.threads)
    torch.set_num_threads(threads)
    print(f"\n## where the time goes (ms per generator step, threads {threads}, each recipe's own batch size)")
    for name in args.recipes:
        trainer = build_ganzoo(build_recipe(name, device_sets))
        steps, _ = steps_for(trainer, args.seconds, args.warmup)
        clock = instrument(trainer)
        total_steps = steps * args.reps
        start = time.perf_counter()
        run_chunk(trainer, total_steps)
        wall = time.perf_counter() - start
        per_step = {f"{phase}/{part}": 1e3 * t / total_steps for (phase, part), t in clock.totals.items()}
        covered = sum(clock.totals.values())
        per_step["outside the step/fit loop"] = 1e3 * (wall - covered) / total_steps  # fit()'s loop and finish
        step_ms = 1e3 * wall / total_steps
        row = {"recipe": name, "batch_size": trainer.config.batch_size, "d_steps": trainer.config.d_steps,
               "threads": threads, "ms_per_step": step_ms, "parts_ms": per_step}
        rows.append(row)
        print(f"\n{name} (batch {row['batch_size']}, k = {row['d_steps']}): {step_ms:.2f} ms per step")
        print(f"  {'part':12} {'critic steps':>12} {'G step':>8} {'between':>8} {'share':>6}")
        for part in PARTS:
            d, g, o = (per_step.get(f"{phase}/{part}", 0.0) for phase in ("critic steps", "generator step", "other"))
            if d + g + o > 0:
                print(f"  {part:12} {d:>12.3f} {g:>8.3f} {o:>8.3f} {100 * (d + g + o) / step_ms:>5.1f}%")
        outside = per_step["outside the step/fit loop"]
        print(f"  {'fit() loop':12} {'':>12} {'':>8} {outside:>8.3f} {100 * outside / step_ms:>5.1f}%", flush=True)
        del trainer
    return rows


# ------------------------------------------------------------------ part 3: fast paths
def applies(name: str, path: str, recipe: Any) -> str | None:
    """Why a fast path does not apply to a recipe, or None."""
    if path == "channels_last" and len(recipe.data_info.shape) != 3:
        return "not an image model"
    if path == "fused":
        names = {recipe.optim.generator.name, recipe.optim.discriminator.name}
        if "rmsprop" in names:
            return "torch has no fused RMSprop"
    return None


def part_fast_paths(args: argparse.Namespace, device_sets: list[str]) -> list[dict[str, Any]]:
    rows = []
    threads = max(args.threads)
    torch.set_num_threads(threads)
    print(f"\n## fast paths (images/s, median of {args.reps} turns; threads {threads}; each recipe's batch size)")
    print(f"{'recipe':16} {'fast path':14} {'images/s':>10} {'vs baseline':>11} {'warm-up s':>9}")
    for name in args.recipes:
        trainers, warm, skipped = {}, {}, {}
        base = build_recipe(name, device_sets)
        for path in args.fast_paths:
            reason = applies(name, path, base)
            if reason:
                skipped[path] = reason
                continue
            try:
                trainers[path] = build_ganzoo(build_recipe(name, device_sets + FAST_PATHS[path]))
            except Exception as err:
                skipped[path] = f"{type(err).__name__}: {err}"
        steps = {}
        for path, trainer in list(trainers.items()):
            try:
                steps[path], warm[path] = steps_for(trainer, args.seconds, args.warmup)
            except Exception as err:  # a fast path that does not run here: say so, go on
                skipped[path] = f"{type(err).__name__}: {str(err).splitlines()[0]}"
                del trainers[path]
        times: dict[str, list[float]] = defaultdict(list)
        for turn in range(args.reps):  # round robin, so that load from other jobs falls on every path alike
            order = list(trainers) if turn % 2 == 0 else list(trainers)[::-1]
            for path in order:
                times[path].append(run_chunk(trainers[path], steps[path]) / steps[path])
        base_rate = None
        for path in args.fast_paths:
            if path in skipped:
                print(f"{name:16} {path:14} {'':>10} {'':>11} {'':>9}  skipped: {skipped[path]}")
                rows.append({"recipe": name, "fast_path": path, "skipped": skipped[path]})
                continue
            rate = images_per_step(trainers[path]) / statistics.median(times[path])
            if path == "baseline":
                base_rate = rate
            ratio = rate / base_rate if base_rate else float("nan")
            rows.append({"recipe": name, "fast_path": path, "images_s": rate, "vs_baseline": ratio,
                         "warmup_s": warm[path], "warmup_steps": args.warmup, "threads": threads})
            print(f"{name:16} {path:14} {rate:>10.0f} {ratio:>11.2f} {warm[path]:>9.1f}", flush=True)
        del trainers
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", default=["throughput", "breakdown", "fast-paths"],
                        choices=["throughput", "breakdown", "fast-paths"])
    parser.add_argument("--recipes", nargs="+", default=RECIPES, help=f"shipped recipes (default: {' '.join(RECIPES)})")
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=BATCH_SIZES)
    parser.add_argument("--threads", nargs="+", type=int,
                        default=sorted({1, os.cpu_count() or 1}), help="torch thread counts (default: 1 and all cores)")
    parser.add_argument("--fast-paths", nargs="+", default=DEFAULT_FAST_PATHS, choices=list(FAST_PATHS),
                        help="what to time against the baseline (train.fast = 'off'); also the G-step choices "
                        "(g-*) and the defaults (auto*)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"], help="train.device (default cpu)")
    parser.add_argument("--seconds", type=float, default=0.5, help="length of one timed chunk (default 0.5 s)")
    parser.add_argument("--reps", type=int, default=5, help="timed chunks per figure (default 5)")
    parser.add_argument("--warmup", type=int, default=6, help="untimed steps first (default 6; compiling included)")
    parser.add_argument("--warm-compile-cache", action="store_true",
                        help="keep inductor's on-disk cache (default: an empty one, so compile times are a first run's)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if "baseline" not in args.fast_paths:
        args.fast_paths.insert(0, "baseline")
    device_sets = [f'train.device="{args.device}"']

    info = machine()
    print(f"{info['date']}  {info['machine']}  torch {info['torch']}  ganzoo {info['ganzoo']}  load {info['loadavg']}")
    out: dict[str, Any] = {**info, "device": args.device}
    if "throughput" in args.parts:
        out["throughput"] = part_throughput(args, device_sets)
    if "breakdown" in args.parts:
        out["breakdown"] = part_breakdown(args, device_sets)
    if "fast-paths" in args.parts:
        out["fast_paths"] = part_fast_paths(args, device_sets)
    out["loadavg_after"] = [round(v, 2) for v in os.getloadavg()]
    print(f"\nload average after: {out['loadavg_after']}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
