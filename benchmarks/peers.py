"""ganzoo against its peers on one network: a plain PyTorch loop, ganzoo, torchgan and Mimicry.

    python benchmarks/peers.py                      # builds a throwaway venv, 5 interleaved rounds, 1 thread
    python benchmarks/peers.py --venv ~/.cache/ganzoo-peers --rounds 7 --json /tmp/peers.json
    python benchmarks/peers.py --cases plain plain-again ganzoo --tiny   # no peers, no network: a smoke test

The network is torchgan 0.1.0's own DCGAN (32x32x1 images, step_channels 32, BatchNorm in both nets), the
recipe that of DCGAN: batch 64, Adam(2e-4, betas 0.5/0.999), the non-saturating loss, k = 1, random images
held in memory. Every framework trains torchgan's ``DCGANGenerator`` and ``DCGANDiscriminator`` (built with
the same seed) with its own trainer and its own defaults:

- ``plain``: the loop as pytorch/examples' dcgan writes it (D on reals, D on detached fakes, each with its
  backward, then G's step through D on fresh fakes, D not frozen), with fresh z in G's step as in
  Algorithm 1 and the other trainers. ``plain-again`` is a second copy of it: the A/A noise floor.
- ``ganzoo``: ``ganzoo.Trainer`` with every option at its default, writing a run directory.
- ``torchgan``: ``torchgan.trainer.Trainer``; the timed steps are its per-batch body (``train_iter`` and the
  mid-epoch logger), so the end-of-epoch checkpoint falls outside them.
- ``mimicry``: ``torch_mimicry.training.Trainer.train()`` as shipped (it prints every step and writes
  TensorBoard summaries every 50), the networks wrapped in its ``BaseGenerator``/``BaseDiscriminator``.

The environment: ``python3 -m venv --system-site-packages`` (the same torch as ganzoo), then torchgan 0.1.0,
torch-mimicry 0.1.16 and ganzoo itself installed with ``--no-deps``, and ``tensorboard``, which Mimicry's
trainer really uses (its logger's SummaryWriter). What Mimicry imports but never uses on the training path
gets an import-time stand-in module instead of a real install: ``tensorflow`` (only its Inception-based
FID/IS/KID metrics use it; the real package is several hundred MB), ``skimage`` (only ``save_tensor_image``)
and ``torch._six`` (removed from torch 2; only the ImageNet dataset helpers read it). A stand-in raises on any
use, so a run that needed one would fail, not measure something else.

How it times: every (round, case) is a fresh worker process, in ABBA order across rounds. A worker trains
``--warmup`` steps, then ``--steps`` timed steps, and reports the process CPU time per timed step (the
figure least disturbed by other work on a shared machine), wall time per step, the time from the worker's
start (torch already imported) to the end of its first step, and its peak resident memory. The ratio of a
case is the median over rounds of plain's CPU time over the case's in the same round (above 1: faster than
the plain loop).
"""

from __future__ import annotations

import argparse
import importlib.machinery
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CASES = ("plain", "plain-again", "ganzoo", "torchgan", "mimicry")
PEERS = {"torchgan": "torchgan==0.1.0", "mimicry": "torch-mimicry==0.1.16"}
REAL_EXTRAS = ("tensorboard",)  # on Mimicry's training path: installed for real
BUILD_BACKEND = "hatchling>=1.21"  # pyproject.toml's [build-system] requires
BATCH, LATENT, SIZE, CHANNELS, STEP_CHANNELS, LR, BETAS = 64, 100, 32, 1, 32, 2e-4, (0.5, 0.999)


# ---------------------------------------------------------------- the environment
def build_venv(venv: Path) -> Path:
    """A venv sharing the system's torch, with the peers, tensorboard and ganzoo; reused when complete."""
    python = venv / "bin" / "python"
    stamp = venv / ".ganzoo-peers-ready"
    if stamp.is_file():
        return python
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--no-deps", *PEERS.values()], check=True)
    subprocess.run([*pip, *REAL_EXTRAS], check=True)
    # ganzoo's own build backend: --no-build-isolation builds with what the venv has, and a fresh venv lacks it
    subprocess.run([*pip, BUILD_BACKEND], check=True)
    subprocess.run([*pip, "--no-deps", "--no-build-isolation", "-e", str(REPO)], check=True)
    stamp.write_text("ok\n")
    return python


class StandIn(types.ModuleType):
    """A module that imports but refuses every use: for what a peer imports and never runs here."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.__spec__ = importlib.machinery.ModuleSpec(name, None)  # importlib.util.find_spec reads it

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise RuntimeError(f"{self.__name__}.{name}: a benchmark stand-in module (see benchmarks/peers.py); "
                           "this code path needs the real package")


def install_standins() -> None:
    """Mimicry's import-time-only dependencies (see the module docstring). TensorBoard, which Mimicry does
    use, goes first: it takes a ``tensorflow`` it can import for the real one, and falls back to its own
    stub only when there is none."""
    import torch
    import torch.utils.tensorboard  # noqa: F401  (resolves tensorboard's optional tensorflow now)

    six = types.ModuleType("torch._six")
    six.PY3, six.string_classes, six.int_classes = True, (str, bytes), int
    sys.modules.setdefault("torch._six", six)
    torch._six = sys.modules["torch._six"]
    for name in ("tensorflow", "skimage", "skimage.io"):
        try:
            __import__(name)
        except ImportError:
            sys.modules[name] = StandIn(name)
    if isinstance(sys.modules["skimage"], StandIn):
        sys.modules["skimage"].__dict__["io"] = sys.modules["skimage.io"]


# ---------------------------------------------------------------- the shared network and data
def torchgan_nets(seed: int = 0):
    import torch
    from torchgan.models import DCGANDiscriminator, DCGANGenerator

    torch.manual_seed(seed)
    G = DCGANGenerator(encoding_dims=LATENT, out_size=SIZE, out_channels=CHANNELS, step_channels=STEP_CHANNELS,
                       batchnorm=True)
    D = DCGANDiscriminator(in_size=SIZE, in_channels=CHANNELS, step_channels=STEP_CHANNELS, batchnorm=True)
    return G, D


def random_images(n: int):
    import torch

    return torch.rand(n, CHANNELS, SIZE, SIZE, generator=torch.Generator().manual_seed(1)) * 2 - 1


class StepClock:
    """Process CPU and wall time at the end of each step."""

    def __init__(self) -> None:
        self.cpu: list[float] = []
        self.wall: list[float] = []

    def tick(self, *_: Any) -> None:
        self.cpu.append(time.process_time())
        self.wall.append(time.perf_counter())


# ---------------------------------------------------------------- the cases
def run_plain(steps: int, clock: StepClock, workdir: Path) -> None:
    import torch
    from torch import nn

    G, D = torchgan_nets()
    opt_g = torch.optim.Adam(G.parameters(), lr=LR, betas=BETAS)
    opt_d = torch.optim.Adam(D.parameters(), lr=LR, betas=BETAS)
    criterion = nn.BCEWithLogitsLoss()
    data = random_images(BATCH * 16)
    perm, at = torch.randperm(len(data)), 0
    for _ in range(steps):
        if at + BATCH > len(data):
            perm, at = torch.randperm(len(data)), 0
        real = data[perm[at : at + BATCH]]
        at += BATCH
        D.zero_grad()
        out = D(real)
        err_real = criterion(out, torch.ones_like(out))
        err_real.backward()
        with torch.no_grad():
            fake = G(torch.randn(BATCH, LATENT))
        out = D(fake.detach())
        err_fake = criterion(out, torch.zeros_like(out))
        err_fake.backward()
        opt_d.step()
        G.zero_grad()
        out = D(G(torch.randn(BATCH, LATENT)))
        err_g = criterion(out, torch.ones_like(out))
        err_g.backward()
        opt_g.step()
        clock.tick()
    float(err_g)


def run_ganzoo(steps: int, clock: StepClock, workdir: Path) -> None:
    from torch import nn

    import ganzoo

    class Gen(nn.Module):
        latent_dim, num_classes = LATENT, 0

        def __init__(self, net: nn.Module) -> None:
            super().__init__()
            self.net = net

        def forward(self, z, c=None):
            return self.net(z)

    class Disc(nn.Module):
        def __init__(self, net: nn.Module) -> None:
            super().__init__()
            self.net = net

        def forward(self, x, c=None):
            return self.net(x).view(-1)

    G, D = torchgan_nets()
    trainer = ganzoo.Trainer(Gen(G), Disc(D), "non-saturating", random_images(BATCH * 16), steps=steps,
                             batch_size=BATCH, run_dir=workdir / "ganzoo-run", callbacks=[clock.tick])
    trainer.fit()


def run_torchgan(steps: int, clock: StepClock, workdir: Path) -> None:
    import torch
    from torchgan.losses import MinimaxDiscriminatorLoss, MinimaxGeneratorLoss
    from torchgan.models import DCGANDiscriminator, DCGANGenerator
    from torchgan.trainer import Trainer

    torch.manual_seed(0)
    adam = {"lr": LR, "betas": BETAS}
    models = {
        "generator": {"name": DCGANGenerator, "args": {"encoding_dims": LATENT, "out_size": SIZE,
                      "out_channels": CHANNELS, "step_channels": STEP_CHANNELS, "batchnorm": True},
                      "optimizer": {"name": torch.optim.Adam, "args": adam}},
        "discriminator": {"name": DCGANDiscriminator, "args": {"in_size": SIZE, "in_channels": CHANNELS,
                          "step_channels": STEP_CHANNELS, "batchnorm": True},
                          "optimizer": {"name": torch.optim.Adam, "args": adam}},
    }
    os.chdir(workdir)
    trainer = Trainer(models, [MinimaxGeneratorLoss(), MinimaxDiscriminatorLoss()], sample_size=64, epochs=1,
                      device=torch.device("cpu"), checkpoints=str(workdir / "tg"), recon=str(workdir))
    data = random_images(BATCH * 16)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(data, torch.zeros(len(data))),
                                         batch_size=BATCH, shuffle=True, drop_last=True)
    trainer.batch_size = BATCH
    for name in trainer.optimizer_names:
        getattr(trainer, name).zero_grad()
    for model in trainer.model_names:
        getattr(trainer, model).train()
    done = 0
    while done < steps:  # the body of torchgan's BaseTrainer.train, epoch after epoch, without its epoch end
        for x, y in loader:
            trainer.real_inputs, trainer.labels = x.to(trainer.device), y.to(trainer.device)
            lgen, ldis, gen_iter, dis_iter = trainer.train_iter()
            info = trainer.loss_information
            info["generator_losses"] += lgen
            info["discriminator_losses"] += ldis
            info["generator_iters"] += gen_iter
            info["discriminator_iters"] += dis_iter
            trainer.logger.run_mid_epoch(trainer)
            clock.tick()
            done += 1
            if done == steps:
                break


def run_mimicry(steps: int, clock: StepClock, workdir: Path) -> None:
    install_standins()
    import torch
    import torch_mimicry as mmc
    from torch_mimicry.nets.gan import gan

    G_net, D_net = torchgan_nets()

    class Gen(gan.BaseGenerator):
        def __init__(self) -> None:
            super().__init__(nz=LATENT, ngf=STEP_CHANNELS, bottom_width=4, loss_type="ns")
            self.net = G_net

        def forward(self, x):
            return self.net(x)

    class Disc(gan.BaseDiscriminator):
        def __init__(self) -> None:
            super().__init__(ndf=STEP_CHANNELS, loss_type="ns")
            self.net = D_net

        def forward(self, x):
            return self.net(x).view(-1, 1)

    netG, netD = Gen(), Disc()
    opt_g = torch.optim.Adam(netG.parameters(), lr=LR, betas=BETAS)
    opt_d = torch.optim.Adam(netD.parameters(), lr=LR, betas=BETAS)
    data = random_images(BATCH * 16)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(data, torch.zeros(len(data))),
                                         batch_size=BATCH, shuffle=True, drop_last=True)
    trainer = mmc.training.Trainer(netD=netD, netG=netG, optD=opt_d, optG=opt_g, dataloader=loader,
                                   num_steps=steps, log_dir=str(workdir / "mimicry"), device=torch.device("cpu"))
    step = trainer.scheduler.step

    def timed_step(log_data, global_step):  # Mimicry's scheduler steps once at the end of every training step
        clock.tick()
        return step(log_data=log_data, global_step=global_step)

    trainer.scheduler.step = timed_step
    trainer.train()


RUNNERS = {"plain": run_plain, "plain-again": run_plain, "ganzoo": run_ganzoo, "torchgan": run_torchgan,
           "mimicry": run_mimicry}


def worker(case: str, steps: int, warmup: int, threads: int, out: Path) -> None:
    import torch

    torch.set_num_threads(threads)
    started = time.perf_counter()
    clock = StepClock()
    with tempfile.TemporaryDirectory(prefix=f"peers-{case}-") as tmp:
        RUNNERS[case](warmup + steps, clock, Path(tmp))
    if len(clock.cpu) < warmup + steps:
        raise SystemExit(f"{case}: {len(clock.cpu)} steps timed, expected {warmup + steps}")
    first = warmup - 1 if warmup else 0
    timed = len(clock.cpu) - 1 - first
    result = {
        "case": case,
        "cpu_ms_per_step": 1000 * (clock.cpu[-1] - clock.cpu[first]) / timed,
        "wall_ms_per_step": 1000 * (clock.wall[-1] - clock.wall[first]) / timed,
        "first_step_s": clock.wall[0] - started,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "timed_steps": timed,
    }
    out.write_text(json.dumps(result))


# ---------------------------------------------------------------- the coordinator
def run_case(python: str, case: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        log = Path(tmp) / "log.txt"
        command = [python, str(Path(__file__).resolve()), "--worker", case, "--steps", str(args.steps),
                   "--warmup", str(args.warmup), "--threads", str(args.threads), "--out", str(out)]
        env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "CONSOLE_LOGGING": os.environ.get(
            "CONSOLE_LOGGING", "1"), "PYTHONWARNINGS": "ignore"}
        with log.open("w") as sink:
            done = subprocess.run(command, stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=tmp)
        if done.returncode != 0 or not out.is_file():
            tail = "".join(log.read_text().splitlines(keepends=True)[-15:])
            raise SystemExit(f"peers.py: the {case} worker failed (exit {done.returncode}):\n{tail}")
        return json.loads(out.read_text())


def summarise(rounds: list[dict[str, dict]], cases: list[str]) -> list[dict[str, Any]]:
    rows = []
    for case in cases:
        runs = [r[case] for r in rounds]
        row = {"case": case, **{key: statistics.median(run[key] for run in runs)
                                for key in ("cpu_ms_per_step", "wall_ms_per_step", "first_step_s", "peak_rss_mb")}}
        if "plain" in cases:
            row["ratio"] = statistics.median(r["plain"]["cpu_ms_per_step"] / r[case]["cpu_ms_per_step"]
                                             for r in rounds)
        row["rounds_cpu_ms"] = [round(run["cpu_ms_per_step"], 1) for run in runs]
        rows.append(row)
    return rows


def machine() -> str:
    import torch

    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python "
            f"{platform.python_version()}, torch {torch.__version__}; load average {load}")


def render(rows: list[dict[str, Any]], args: argparse.Namespace, before: str, after: str) -> str:
    lines = [f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. {before}", f"after: {after}",
             f"`python benchmarks/peers.py {' '.join(sys.argv[1:])}`: {args.rounds} rounds, {args.steps} timed "
             f"steps after {args.warmup}, {args.threads} thread(s)", "",
             "| case | CPU ms/step | wall ms/step | ratio to plain (CPU) | first step s | peak RSS MB | rounds (CPU ms) |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for row in rows:
        ratio = f"{row['ratio']:.3f}" if "ratio" in row else "–"
        lines.append(f"| {row['case']} | {row['cpu_ms_per_step']:.1f} | {row['wall_ms_per_step']:.1f} | {ratio} | "
                     f"{row['first_step_s']:.2f} | {row['peak_rss_mb']:.0f} | "
                     f"{', '.join(map(str, row['rounds_cpu_ms']))} |")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--steps", type=int, default=40, help="timed steps per worker (default 40)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (default 5)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads in every worker (default 1)")
    parser.add_argument("--venv", type=Path, help="keep (and reuse) the peers' venv here (default: a throwaway one)")
    parser.add_argument("--python", help="run the workers with this interpreter, building no venv (it must "
                        "import what --cases need)")
    parser.add_argument("--tiny", action="store_true", help="2 rounds of 3 steps after 1: checks the harness only")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--worker", choices=CASES, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.tiny:
        args.rounds, args.steps, args.warmup = 2, 3, 1
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        worker(args.worker, args.steps, args.warmup, args.threads, args.out)
        return 0
    needs_peers = bool(set(args.cases) & set(PEERS))
    with tempfile.TemporaryDirectory(prefix="ganzoo-peers-venv-") as scratch:
        if args.python:
            python = args.python
        elif needs_peers:
            print("building the peers' environment...", file=sys.stderr, flush=True)
            python = str(build_venv(args.venv or Path(scratch) / "venv"))
        else:
            python = sys.executable
        before = machine()
        rounds = []
        for number in range(args.rounds):
            order = args.cases if number % 2 == 0 else args.cases[::-1]  # ABBA: drift cancels out
            results = {}
            for case in order:
                results[case] = run_case(python, case, args)
                print(f"round {number + 1}: {case} {results[case]['cpu_ms_per_step']:.1f} CPU ms/step",
                      file=sys.stderr, flush=True)
            rounds.append(results)
    rows = summarise(rounds, args.cases)
    print(render(rows, args, before, machine()))
    if args.json:
        args.json.write_text(json.dumps({"machine": before, "rows": rows, "rounds": rounds}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
