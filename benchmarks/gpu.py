"""Images/s of a 64x64 DCGAN in ganzoo, fast path by fast path, against the pytorch/examples loop.

    python benchmarks/gpu.py                          # on the GPU: every case, 5 interleaved rounds
    python benchmarks/gpu.py --device cpu --tiny      # the same code on CPU at toy sizes (what the tests run)

The network is pytorch/examples' dcgan (64x64x3 images, nz 100, ngf = ndf = 64, transposed convolutions,
BatchNorm, ReLU in G and LeakyReLU 0.2 in D, N(0, 0.02) initialisation), batch 128, Adam(2e-4, beta1 0.5),
on synthetic images already on the device. ``examples`` is the training loop the way pytorch/examples writes
it: D ends in a Sigmoid, BCELoss, one backward for reals and one for detached fakes, and G's step reuses
those fakes (one G forward per step). ganzoo's cases train the same network without the Sigmoid (ganzoo's
D returns logits) with ``ganzoo.Trainer``: ``off`` is ``train.fast = "off"`` and nothing else, then each fast
path alone, ``auto`` (the default: what this device gets without asking), and ``all`` (bf16 autocast,
channels_last, torch.compile and fused Adam together).

Every case is built and warmed up first (``--warmup`` steps: torch.compile compiles there), then timed in
``--rounds`` rounds of ``--steps`` steps, in ABBA order, synchronising the device around each chunk. The
figure is the median images/s (real images through D per second) and its ratio to ``examples``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from typing import Any, Callable

import torch
from torch import nn

CASES = ("examples", "off", "channels_last", "bf16", "compile", "fused", "auto", "all")
FAST = {  # ganzoo's train and optim options per case
    "off": {},
    "channels_last": {"channels_last": True},
    "bf16": {"mixed_precision": "bf16"},
    "compile": {"compile": True},
    "fused": {"implementation": "fused"},
    "auto": {"fast": "auto"},
    "all": {"mixed_precision": "bf16", "channels_last": True, "compile": True, "implementation": "fused"},
}


def weights_init(module: nn.Module) -> None:
    """DCGAN's initialisation: N(0, 0.02) convolutions, N(1, 0.02) BatchNorm scales, zero shifts."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class Generator(nn.Module):
    """z (nz) -> 4x4 -> 8 -> 16 -> 32 -> 64x64 images in [-1, 1]; ganzoo's contract: forward(z, c=None)."""

    num_classes = 0

    def __init__(self, nz: int, ngf: int, nc: int) -> None:
        super().__init__()
        self.latent_dim = nz
        widths = [ngf * 8, ngf * 4, ngf * 2, ngf]
        layers: list[nn.Module] = [nn.ConvTranspose2d(nz, widths[0], 4, 1, 0, bias=False), nn.BatchNorm2d(widths[0]),
                                   nn.ReLU(True)]
        for wide, narrow in zip(widths, widths[1:]):
            layers += [nn.ConvTranspose2d(wide, narrow, 4, 2, 1, bias=False), nn.BatchNorm2d(narrow), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.main(z[:, :, None, None])


class Discriminator(nn.Module):
    """64x64 images -> 32 -> 16 -> 8 -> 4 -> one logit each (a Sigmoid after it with ``sigmoid=True``)."""

    def __init__(self, ndf: int, nc: int, sigmoid: bool = False) -> None:
        super().__init__()
        widths = [ndf, ndf * 2, ndf * 4, ndf * 8]
        layers: list[nn.Module] = [nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
        for narrow, wide in zip(widths, widths[1:]):
            layers += [nn.Conv2d(narrow, wide, 4, 2, 1, bias=False), nn.BatchNorm2d(wide),
                       nn.LeakyReLU(0.2, inplace=True)]
        layers.append(nn.Conv2d(widths[-1], 1, 4, 1, 0, bias=False))
        if sigmoid:
            layers.append(nn.Sigmoid())
        self.main = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.main(x).view(-1)


def build_nets(args: argparse.Namespace, sigmoid: bool) -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(0)
    G, D = Generator(args.nz, args.width, 3), Discriminator(args.width, 3, sigmoid=sigmoid)
    G.apply(weights_init)
    D.apply(weights_init)
    return G, D


def synthetic_images(args: argparse.Namespace, device: torch.device) -> torch.Tensor:
    gen = torch.Generator().manual_seed(1)
    return (torch.rand(args.batch * 4, 3, args.size, args.size, generator=gen) * 2 - 1).to(device)


def examples_step_fn(args: argparse.Namespace, device: torch.device) -> Callable[[], None]:
    """One step of the loop as pytorch/examples' dcgan/main.py writes it."""
    G, D = build_nets(args, sigmoid=True)
    G.to(device)
    D.to(device)
    criterion = nn.BCELoss()
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    data = synthetic_images(args, device)
    state = {"at": 0}

    def step() -> None:
        at = state["at"]
        real = data[at : at + args.batch]
        state["at"] = (at + args.batch) % (len(data) - args.batch + 1)
        D.zero_grad()
        label = torch.full((len(real),), 1.0, device=device)
        err_real = criterion(D(real), label)
        err_real.backward()
        fake = G(torch.randn(len(real), args.nz, device=device))
        label.fill_(0.0)
        err_fake = criterion(D(fake.detach()), label)
        err_fake.backward()
        opt_d.step()
        G.zero_grad()
        label.fill_(1.0)
        err_g = criterion(D(fake), label)
        err_g.backward()
        opt_g.step()

    return step


def ganzoo_step_fn(case: str, args: argparse.Namespace, device: torch.device) -> tuple[Callable[[], None], str]:
    import ganzoo
    from ganzoo.recipe.schema import OptimizerOptions, OptimSection

    options = dict(FAST[case])
    implementation = options.pop("implementation", "auto")
    fast = options.pop("fast", "off")
    adam = OptimizerOptions(name="adam", lr=2e-4, betas=(0.5, 0.999), implementation=implementation)
    G, D = build_nets(args, sigmoid=False)
    trainer = ganzoo.Trainer(G, D, "non-saturating", synthetic_images(args, device), steps=args.run_steps,
                             batch_size=args.batch, device=device.type, quiet=True, fast=fast, log_every=10**9,
                             optim=OptimSection(generator=adam, discriminator=adam), **options)
    return trainer.train_step, trainer.fast_paths


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def measure(args: argparse.Namespace) -> dict[str, Any]:
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    steps, chosen, warmup_s = {}, {}, {}
    for case in args.cases:  # build and warm up every case first: compiling happens here
        started = time.perf_counter()
        if case == "examples":
            steps[case], chosen[case] = examples_step_fn(args, device), "pytorch/examples loop"
        else:
            steps[case], chosen[case] = ganzoo_step_fn(case, args, device)
        for _ in range(args.warmup):
            steps[case]()
        sync(device)
        warmup_s[case] = time.perf_counter() - started
        print(f"{case}: built and warmed up in {warmup_s[case]:.1f} s ({chosen[case]})", file=sys.stderr, flush=True)
    speeds: dict[str, list[float]] = {case: [] for case in args.cases}
    for number in range(args.rounds):
        for case in (args.cases if number % 2 == 0 else args.cases[::-1]):
            sync(device)
            started = time.perf_counter()
            for _ in range(args.steps):
                steps[case]()
            sync(device)
            speeds[case].append(args.steps * args.batch / (time.perf_counter() - started))
    base = statistics.median(speeds["examples"]) if "examples" in speeds else None
    rows = []
    for case in args.cases:
        speed = statistics.median(speeds[case])
        ratio = statistics.median(s / e for s, e in zip(speeds[case], speeds["examples"])) if base else None
        rows.append({"case": case, "paths": chosen[case], "images_per_s": speed, "ratio": ratio,
                     "warmup_s": warmup_s[case], "rounds": speeds[case]})
    return {"device": describe_device(device), "args": {k: v for k, v in vars(args).items() if k != "json"},
            "rows": rows}


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        return f"{name} ({torch.cuda.device_count()} visible), torch {torch.__version__}, CUDA {torch.version.cuda}"
    return (f"CPU {platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} threads, "
            f"torch {torch.__version__}, load average {os.getloadavg()[0]:.2f}")


def render(result: dict[str, Any]) -> str:
    a = result["args"]
    lines = [f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {result['device']}; {a['size']}x{a['size']} "
             f"DCGAN (width {a['width']}), batch {a['batch']}; {a['rounds']} rounds of {a['steps']} steps after "
             f"{a['warmup']} warm-up steps", "",
             "| case | fast paths | images/s | ratio to pytorch/examples | build + warm-up s |",
             "|---|---|---:|---:|---:|"]
    for row in result["rows"]:
        ratio = "–" if row["ratio"] is None else f"{row['ratio']:.2f}x"
        lines.append(f"| {row['case']} | {row['paths']} | {row['images_per_s']:,.0f} | {ratio} | {row['warmup_s']:.1f} |")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu")
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--size", type=int, default=64, help="image side (64; --tiny keeps 64 with narrow nets)")
    parser.add_argument("--width", type=int, default=64, help="ngf = ndf (default 64)")
    parser.add_argument("--nz", type=int, default=100)
    parser.add_argument("--steps", type=int, default=20, help="timed steps per round (default 20)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps first, compiling included (default 10)")
    parser.add_argument("--run-steps", type=int, default=100_000,
                        help="train.steps the trainers are built with: auto's torch.compile rule reads it (default "
                        "100000, a long run)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--tiny", action="store_true",
                        help="batch 4, width 4, 2 rounds of 2 steps after 1, a 1000-step run (auto: no compile), no compile "
                        "cases: checks the script only")
    parser.add_argument("--json", help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    if args.tiny:
        args.batch, args.width, args.steps, args.rounds, args.warmup, args.run_steps = 4, 4, 2, 2, 1, 1000
        args.cases = [case for case in args.cases if case not in ("compile", "all")]
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda, but no CUDA GPU is visible (use --device cpu)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = measure(args)
    print(render(result))
    if args.json:
        with open(args.json, "w") as sink:
            json.dump(result, sink, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
