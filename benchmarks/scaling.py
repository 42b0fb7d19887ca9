"""Scaling out: one training process against several (DDP, started by torchrun) for a shipped recipe.

    python benchmarks/scaling.py                        # dcgan-digits on CPU: 1 process x 2 threads
                                                        #   against 2 processes x 1 thread
    python benchmarks/scaling.py --recipe wgan-gp-digits --steps 100 --reps 3
    python benchmarks/scaling.py --cores 4              # 1 x 4 threads against 4 x 1
    python benchmarks/scaling.py --gpus 4               # 1 GPU against 4 (NCCL), on a machine that has 4
    python benchmarks/scaling.py --write benchmarks/RESULTS.md   # and (re)write its "Scaling" section there

Every configuration is a real ``ganzoo run`` of the same recipe with the same per-process batch (weak
scaling: N processes train on N times the images per step, gradients averaged), started as a user starts
it: plain for one process, ``python -m torch.distributed.run --nproc_per_node N`` for several (gloo on CPU
with ``ACCELERATE_USE_CPU=1``, NCCL on GPUs). The figures come from the run's own metrics.jsonl, between the
end of the first logged interval and the last one, so interpreter start-up, process-group set-up and the
first steps (warm-up) are left out: steps/s, and images/s = real images through D per second, all
processes together (``images_per_s`` in metrics.jsonl). Repetitions alternate the configurations (ABAB...)
and the table gives medians. The machine's load average is printed before and after: on a shared machine
other jobs move these figures, and the note says so.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADING = "## Scaling"


@dataclass(frozen=True)
class Config:
    label: str
    processes: int
    threads: int
    device: str  # "cpu" or "cuda"


@dataclass
class Measured:
    steps_per_s: float
    images_per_s: float
    global_batch: int


def free_port() -> int:
    """A port nobody listens on, for torchrun's rendezvous (runs side by side do not collide)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def command(config: Config, recipe: str, sets: list[str], out: Path) -> tuple[list[str], dict[str, str]]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GANZOO_")}
    env.update(OMP_NUM_THREADS=str(config.threads), MKL_NUM_THREADS=str(config.threads), PYTHONUNBUFFERED="1")
    if config.device == "cpu":
        env.update(CUDA_VISIBLE_DEVICES="", ACCELERATE_USE_CPU="1")
    sets = [*sets, f"train.threads={config.threads}", f'train.device="{config.device}"']
    ganzoo = ["-m", "ganzoo.cli.main", "run", recipe, *[a for s in sets for a in ("--set", s)], "--out", str(out),
              "--quiet"]
    if config.processes == 1:
        return [sys.executable, *ganzoo], env
    launcher = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={config.processes}",
                "--master_addr=127.0.0.1", f"--master_port={free_port()}"]
    return [*launcher, *ganzoo], env


def measure(config: Config, recipe: str, sets: list[str], workdir: Path, rep: int) -> Measured:
    out = workdir / f"{config.processes}x{config.threads}-{rep}"
    argv, env = command(config, recipe, sets, out)
    done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-4000:]}")
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines() if line.strip()]
    rows = [row for row in rows if "wall_s" in row]
    if len(rows) < 3:
        raise SystemExit(f"{out}: too few logged intervals ({len(rows)}); raise --steps or lower --log-every")
    if rows[-1].get("processes", 1) != config.processes:
        raise SystemExit(f"{out}: trained with {rows[-1].get('processes')} process(es), not {config.processes}")
    first, last = rows[0], rows[-1]
    seconds = last["wall_s"] - first["wall_s"]
    steps = last["step"] - first["step"]
    # images_per_s of each interval is images / interval; over several intervals: their images / their time
    images = sum(row["images_per_s"] * (row["wall_s"] - prev["wall_s"]) for prev, row in zip(rows, rows[1:]))
    return Measured(steps / seconds, images / seconds, int(last.get("global_batch", 0)))


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpus = ""
    try:
        import torch

        if torch.cuda.is_available():
            gpus = f", {torch.cuda.device_count()} x {torch.cuda.get_device_name(0)}"
        version = torch.__version__
    except ImportError:  # pragma: no cover
        version = "?"
    return (f"{cpu}, {os.cpu_count()} cores{gpus}; Linux {platform.release()}, "
            f"Python {platform.python_version()}, torch {version}")


def loadavg() -> str:
    return " / ".join(f"{v:.2f}" for v in os.getloadavg())


def section(args: argparse.Namespace, configs: list[Config], results: dict[Config, list[Measured]],
            load_before: str, load_after: str) -> str:
    base, scaled = configs[:2]
    med = {c: (statistics.median(m.steps_per_s for m in results[c]),
               statistics.median(m.images_per_s for m in results[c])) for c in configs}
    lines = [
        HEADING,
        "",
        f"{dt.date.today().isoformat()}, `{' '.join(['python', 'benchmarks/scaling.py', *args.argv])}`",
        "",
        f"Machine: {machine()}. Load average (1 / 5 / 15 min) before: {load_before}; after: {load_after}"
        " (a shared machine: other jobs ran during the measurement).",
        "",
        f"Recipe `{args.recipe}`{' with ' + ', '.join(f'`{s}`' for s in args.set) if args.set else ''}, "
        f"{args.steps} steps per run, logged every {args.log_every}; the figures leave out start-up and the first "
        f"interval. Medians of {args.reps} alternating repetitions.",
        "",
        "| configuration | global batch | steps/s | images/s | runs (images/s) |",
        "|---|---:|---:|---:|---|",
    ]
    for config in configs:
        steps, images = med[config]
        runs = ", ".join(f"{m.images_per_s:.0f}" for m in results[config])
        lines.append(f"| {config.label} | {results[config][0].global_batch} | {steps:.2f} | {images:.0f} | {runs} |")
    steps_ratio = med[scaled][0] / med[base][0]
    images_ratio = med[scaled][1] / med[base][1]
    lines += [
        "",
        f"Ratio ({scaled.label} over {base.label}): images/s x{images_ratio:.2f}, steps/s x{steps_ratio:.2f} "
        f"(each step of {scaled.processes} processes trains on {scaled.processes} times the images).",
    ]
    for other in configs[2:]:
        lines.append(f"Against {other.label}: {base.label} x{med[base][1] / med[other][1]:.2f} images/s, "
                     f"{scaled.label} x{med[scaled][1] / med[other][1]:.2f}.")
    lines.append("")
    return "\n".join(lines)


def write_section(path: Path, text: str) -> None:
    """Replace this file's "Scaling" section, or append one; the rest of the file is kept as it is.

    The file is read right before it is written: other benchmarks write their own sections into it.
    """
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"^{re.escape(HEADING)}\s*\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(old):
        new = pattern.sub(lambda _: text.rstrip("\n") + "\n\n", old, count=1).rstrip("\n") + "\n"
    else:
        new = old.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(new, encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipe", default="dcgan-digits", help="shipped recipe name or file (default: dcgan-digits)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="recipe override (repeatable)")
    parser.add_argument("--steps", type=int, default=150, help="steps per run (default: 150)")
    parser.add_argument("--log-every", type=int, default=25, help="logging interval in steps (default: 25)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each configuration (default: 3)")
    parser.add_argument("--cores", type=int, default=2, help="CPU: 1 process x CORES threads against CORES "
                        "processes x 1 thread (default: 2)")
    parser.add_argument("--gpus", type=int, default=0, help="GPUs: 1 process on 1 GPU against GPUS processes, one GPU "
                        "each (default: 0 = CPU)")
    parser.add_argument("--write", type=Path, metavar="RESULTS_MD", help="(re)write the Scaling section of this file")
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if args.gpus:
        configs = [Config("1 process, 1 GPU", 1, 1, "cuda"), Config(f"{args.gpus} processes, 1 GPU each (DDP, NCCL)",
                                                                       args.gpus, 1, "cuda")]
    else:
        configs = [Config(f"1 process x {args.cores} threads", 1, args.cores, "cpu"),
                   Config(f"{args.cores} processes x 1 thread (DDP, gloo)", args.cores, 1, "cpu")]
        if args.cores > 1:  # for reference: what the extra threads (or processes) add to one thread
            configs.append(Config("1 process x 1 thread (reference)", 1, 1, "cpu"))
    sets = ["train.sample_every=0", "train.checkpoint_every=0", f"train.steps={args.steps}",
            f"train.log_every={args.log_every}", *args.set]
    results: dict[Config, list[Measured]] = {c: [] for c in configs}
    load_before = loadavg()
    print(f"load average before: {load_before}", flush=True)
    with tempfile.TemporaryDirectory(prefix="ganzoo-scaling-") as workdir:
        for rep in range(args.reps):
            order = configs if rep % 2 == 0 else configs[::-1]
            for config in order:
                m = measure(config, args.recipe, sets, Path(workdir), rep)
                results[config].append(m)
                print(f"[{rep + 1}/{args.reps}] {config.label:44s} {m.steps_per_s:8.2f} steps/s "
                      f"{m.images_per_s:9.0f} images/s  (global batch {m.global_batch}; load {loadavg()})", flush=True)
    load_after = loadavg()
    text = section(args, configs, results, load_before, load_after)
    print()
    print(text)
    if args.write:
        write_section(args.write, text)
        print(f"wrote the {HEADING!r} section of {args.write}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
