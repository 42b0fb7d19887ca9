"""ganzoo's trainer against a minimal hand-written PyTorch loop: does the framework cost anything?

    python benchmarks/overhead.py --threads 1           # the five cases; exit status 1 if a ratio is < 0.97
    python benchmarks/overhead.py --cases mlp-ring8 --sessions 8
    python benchmarks/overhead.py --a-a --threads 1     # the plain loop against itself: the noise floor
    python benchmarks/overhead.py --set train.channels_last=true   # a fast path, switched on in both loops
    python benchmarks/overhead.py --check               # only check that both loops compute the same thing

Both loops train the same models (built from a shipped recipe with the same seed), with the same loss
functions (the plugins'), the same optimisers, the same k critic steps, fresh batches drawn the same way
(a seeded permutation per epoch, sliced; or fresh draws from a sampled source) and the same noise stream,
in one process, with the same torch thread count. ``--check`` trains both for a few steps and asserts the
weights come out bit for bit equal, so the timing compares the same work.

The plain loop is written the way a careful user writes one: one forward of D over cat([real, fake]) when
D has BatchNorm (so its batch statistics are those of a mixed batch, as in the trainer), D frozen with
``requires_grad_(False)`` during G's step, the EMA of G (when the recipe has one) as one foreach lerp,
the recipe's linear learning-rate decay (if any) set in the optimisers' ``param_groups`` each step, and
the losses read back with ``.item()`` only when logged (every ``log_every`` steps and at the end of a
timed chunk). It does not compute the D(x) / D(G(z)) means that ganzoo logs beside the losses: that
bookkeeping is part of the framework's cost.

Timing: each case builds ``--sessions`` fresh pairs of loops, in alternating order (one instance of a loop
can run a few percent faster than another instance of the same loop for its whole life: memory placement).
In each pair, after an untimed warm-up of both, each repetition runs a short chunk of steps (about
``--chunk-seconds``) of one loop, then one of the other, the order alternating (ABBA). Printed:
the median steps/s of each (wall clock); "ratio", the median over repetitions of ganzoo's steps/s over
the plain loop's in the same repetition (the target: 0.97 or more); "of-medians", the ratio of the two
medians; "cpu-ratio", the paired ratio measured in process CPU time instead of wall-clock time. Pairing
neighbouring chunks is what makes the ratio hold still on a machine shared with other jobs, where the
speed of either loop alone drifts by tens of percent within a minute.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch

import ganzoo
from ganzoo.components import DBatch
from ganzoo.recipe import load_recipe
from ganzoo.registry import registries
from ganzoo.training.gstep import keeps_fakes
from ganzoo.training.topk import top_k_count

CASES = {  # case -> shipped recipe
    "mlp-ring8": "vanilla-ring8",
    "dcgan-digits": "dcgan-digits",
    "cdcgan-digits": "cdcgan-digits",
    "wgan-gp-digits": "wgan-gp-digits",
    "dcgan-r1-digits": "dcgan-digits",  # + R1 (gamma 1, lazy every 16): see EXTRA_TABLES
}
EXTRA_TABLES = {"dcgan-r1-digits": {"regularizer": [{"name": "r1", "weight": 1.0, "every": 16}]}}
BENCH_SETS = ["train.device=\"cpu\"", "train.steps=1000000000", "train.sample_every=0", "train.checkpoint_every=0"]
TARGET = 0.97


# ------------------------------------------------------------------ building both sides from one recipe
def build_recipe(case: str, sets: list[str]) -> Any:
    import attrs

    from ganzoo.components import Regularizer
    from ganzoo.training import fast

    if case not in EXTRA_TABLES:
        recipe = load_recipe(CASES.get(case, case), BENCH_SETS + list(sets))
        own_steps = load_recipe(CASES.get(case, case), list(sets)).train.steps
    else:
        from ganzoo.recipe import apply_overrides, recipe_from_dict
        from ganzoo.recipe.load import read_toml, resolve_recipe_path

        raw = {**read_toml(resolve_recipe_path(CASES[case])), "name": case, **EXTRA_TABLES[case]}
        recipe = recipe_from_dict(apply_overrides(raw, BENCH_SETS + list(sets), case), source=case)
        own_steps = recipe_from_dict(apply_overrides(raw, list(sets), case), source=case).train.steps
    # train.fast's choice for the recipe's own length (not the benchmark's endless one), then fixed
    # (fast = "off"), so that both loops run the same fast paths
    G, D = build_models(recipe)
    penalised = any(type(r).penalty is not Regularizer.penalty for r, _, _ in build_regularizers(recipe))
    train, optim = fast.resolve(attrs.evolve(recipe.train, steps=own_steps), recipe.optim, G, D,
                                has_penalty=penalised)
    return attrs.evolve(recipe, train=attrs.evolve(train, steps=recipe.train.steps, fast="off"), optim=optim)


def build_models(recipe: Any) -> tuple[torch.nn.Module, torch.nn.Module]:
    """G and D exactly as ``ganzoo.api.build_trainer`` builds them (same seed, same order)."""
    found = registries()
    torch.manual_seed(recipe.seed)
    made = []
    for role in ("generator", "discriminator"):
        choice = getattr(recipe, role)
        factory = found.component(role, choice.name).load_factory()
        made.append(factory(choice.options, shape=recipe.data_info.shape, num_classes=recipe.num_classes))
    return made[0], made[1]


def build_data_and_loss(recipe: Any) -> tuple[Any, Any]:
    found = registries()
    data = found.component("dataset", recipe.data.name).load_factory()(recipe.data.options, split="train")
    if recipe.header.clusters:  # self-conditioned: the labels are k-means clusters, as a user would compute them
        from ganzoo.clusters import cluster_data

        data = cluster_data(data, recipe.header.clusters)
    loss = found.component("loss", recipe.loss.name).load_factory()(recipe.loss.options)
    return data, loss


def build_regularizers(recipe: Any) -> list[tuple[Any, float, int]]:
    """The recipe's regularisers (the plugins' own objects) with their weight and interval."""
    found = registries()
    return [(found.component("regularizer", r.name).load_factory()(r.options), r.schedule.weight, r.schedule.every)
            for r in recipe.regularizers]


def build_ganzoo(recipe: Any) -> Any:
    from ganzoo.api import build_trainer

    return build_trainer(recipe, None, quiet=True)


def plain_optimizer(params: Any, options: Any) -> torch.optim.Optimizer:
    """torch.optim straight from the recipe's numbers."""
    kernel = {"auto": {}, "foreach": {"foreach": True}, "fused": {"fused": True},
              "for-loop": {"foreach": False}}[options.implementation]
    if options.name == "adam":
        return torch.optim.Adam(params, lr=options.lr, betas=options.betas, weight_decay=options.weight_decay, **kernel)
    if options.name == "adamw":
        return torch.optim.AdamW(params, lr=options.lr, betas=options.betas, weight_decay=options.weight_decay, **kernel)
    if options.name == "rmsprop":
        return torch.optim.RMSprop(params, lr=options.lr, momentum=options.momentum, weight_decay=options.weight_decay,
                                   **kernel)
    return torch.optim.SGD(params, lr=options.lr, momentum=options.momentum, weight_decay=options.weight_decay, **kernel)


class PlainLoop:
    """The hand-written loop: what a user would write with torch alone for the same recipe."""

    def __init__(self, recipe: Any) -> None:
        train, seed = recipe.train, recipe.seed
        self.G, self.D = build_models(recipe)
        self.data, self.loss = build_data_and_loss(recipe)
        self.regularizers, self.d_updates = build_regularizers(recipe), 0
        if recipe.augment is not None:
            raise SystemExit("the plain loop has no D-input augmentation: compare recipes without [augment]")
        self.batch, self.k, self.log_every = train.batch_size, train.d_steps, train.log_every
        self.g_step_fakes = train.g_step_fakes
        self.group_by_class, self.top_k = train.group_by_class, train.g_top_k
        self.latent, self.classes = self.G.latent_dim, recipe.num_classes
        if train.mixed_precision == "fp16":
            raise SystemExit("the plain loop has no fp16 gradient scaler: compare bf16, or no mixed precision")
        auto = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(auto if train.device == "auto" else train.device)
        fmt = torch.channels_last if train.channels_last else torch.contiguous_format
        self.channels_last = train.channels_last
        self.G.to(self.device, memory_format=fmt)
        self.D.to(self.device, memory_format=fmt)
        self.opt_g = plain_optimizer(self.G.parameters(), recipe.optim.generator)
        self.opt_d = plain_optimizer(self.D.parameters(), recipe.optim.discriminator)
        self.lr_decay, self.total_steps = getattr(train, "lr_decay", "none"), train.steps
        self.base_lr = (recipe.optim.generator.lr, recipe.optim.discriminator.lr)
        self.ema_decay = train.ema
        self.ema = copy.deepcopy(self.G).requires_grad_(False) if train.ema > 0 else None
        self.ema_updates = 0
        self.bf16 = train.mixed_precision == "bf16"
        self.g, self.d = (torch.compile(self.G), torch.compile(self.D)) if train.compile else (self.G, self.D)
        self.d_has_bn = any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in self.D.modules())
        from ganzoo.training.gstep import g_step_inputs

        self.g_inputs = g_step_inputs(train.g_step_batchnorm, d_has_batchnorm=self.d_has_bn,
                                      loss_needs_reals=self.loss.needs_real_logits)
        self.noise = torch.Generator(self.device).manual_seed(seed * 100_003 + 104_729)  # ganzoo's, rank 0
        # real batches: a seeded permutation per epoch, sliced (in-memory data), or fresh draws
        self.seed, self.epoch, self.offset = seed, 0, 0
        if callable(getattr(self.data, "sample", None)):
            self.source = torch.Generator().manual_seed(seed * 100_003 + 7919)
            self.x = self.y = None
        else:
            x, y = self.data.tensors()  # kept whole on the device, as ganzoo does
            self.x, self.y = x.to(self.device), (None if y is None else y.to(self.device))
            self.order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed * 100_003))
            self.order = self.order.to(self.device)
        self.step, self.logged = 0, []

    def real(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.x is None:
            x, y = self.data.sample(self.batch, self.source)
            x, y = x.to(self.device, non_blocking=True), (None if y is None else y.to(self.device, non_blocking=True))
        else:
            if self.offset + self.batch > len(self.order):
                self.epoch, self.offset = self.epoch + 1, 0
                gen = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
                self.order = torch.randperm(len(self.x), generator=gen).to(self.device)
            index = self.order[self.offset : self.offset + self.batch]
            self.offset += self.batch
            x, y = self.x[index], (None if self.y is None else self.y[index])
        if self.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        if self.classes and self.group_by_class:  # the batch in class order
            order = y.argsort(stable=True)
            x, y = x[order], y[order]
        return x, (y if self.classes else None)

    def autocast(self) -> Any:
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16)

    def train(self, steps: int) -> None:
        G, D, g, d, loss_fn, n = self.G, self.D, self.g, self.d, self.loss, self.batch
        for _ in range(steps):
            if self.lr_decay == "linear":  # linear decay to 0 at train.steps
                scale = 1.0 - self.step / self.total_steps
                for opt, lr in zip((self.opt_g, self.opt_d), self.base_lr):
                    for group in opt.param_groups:
                        group["lr"] = lr * scale
            for k in range(self.k):  # critic steps, each with a fresh real batch and fresh z
                x, c = self.real()
                c_real = c  # the last critic step's reals: what "reused-reals" hands G's step
                keep = keeps_fakes(self.g_step_fakes, critic_step=k, d_steps=self.k, grad_accum=1)  # G's step reuses them
                with torch.set_grad_enabled(keep), self.autocast():
                    kept = g(torch.randn(n, self.latent, generator=self.noise, device=self.device), c)
                fake = kept.detach()
                with self.autocast():
                    logits = d(torch.cat([x, fake.to(x.dtype)]), None if c is None else torch.cat([c, c])).float()
                d_loss = loss_fn.d_loss(logits[:n], logits[n:])
                due = [r for r in self.regularizers if self.d_updates % r[2] == 0]
                penalty = None
                for regularizer, weight, every in due:  # lazy ones every N critic steps, weight scaled by N
                    batch = DBatch(real=x, fake=fake.to(x.dtype), labels=c, real_out=None, fake_out=None, critic=D)
                    term = regularizer.penalty(batch)
                    if term is not None:
                        term = term * (weight * every)
                        penalty = term if penalty is None else penalty + term
                total = d_loss if penalty is None else d_loss + penalty
                total.backward()
                self.opt_d.step()
                self.opt_d.zero_grad(set_to_none=True)
                for regularizer, _, _ in due:
                    regularizer.after_d_step(D)  # weight clipping
                self.d_updates += 1
            D.requires_grad_(False)  # G's step: no gradients for D's weights
            if keep:  # the last critic step's labels and fakes (train.g_step_fakes = "shared")
                fake = kept
            else:
                c = torch.randint(self.classes, (n,), generator=self.noise, device=self.device) if self.classes else None
                if c is not None and self.group_by_class:
                    c = c.sort(stable=True).values
                with self.autocast():
                    fake = g(torch.randn(n, self.latent, generator=self.noise, device=self.device), c)
            with self.autocast():
                if self.g_inputs.reals:  # a BatchNorm D sees reals beside the fakes (train.g_step_batchnorm)
                    x, real_c = (x, c_real) if self.g_inputs.reals == "reused" else self.real()
                    both_c = None if c is None else torch.cat([real_c, c])
                    fake_logits = d(torch.cat([x, fake.to(x.dtype)]), both_c).float()[n:]
                else:  # fakes alone, D in eval mode (running statistics) when asked
                    d.train(not self.g_inputs.eval_mode)
                    fake_logits = d(fake, c).float()
                    d.train(True)
            k = top_k_count(self.step, self.total_steps, n, self.top_k)  # top-k training: the best-rated fakes
            g_loss = loss_fn.g_loss(fake_logits if k == n else fake_logits.topk(k).values)
            g_loss.backward()
            self.opt_g.step()
            self.opt_g.zero_grad(set_to_none=True)
            D.requires_grad_(True)
            if self.ema is not None:
                self.update_ema()
            self.step += 1
            if self.step % self.log_every == 0:
                self.logged.append((self.step, d_loss.item(), g_loss.item()))
        self.logged.append((self.step, d_loss.item(), g_loss.item()))  # the chunk's end, as ganzoo's fit() logs

    @torch.no_grad()
    def update_ema(self) -> None:
        """EMA of G's parameters and buffers with a warm-up decay min(decay, (1 + n) / (10 + n))."""
        ema = list(self.ema.parameters()) + list(self.ema.buffers())
        now = list(self.G.parameters()) + list(self.G.buffers())
        if self.ema_updates == 0:
            torch._foreach_copy_(ema, now)
        else:
            keep = min(self.ema_decay, (1.0 + self.ema_updates) / (10.0 + self.ema_updates))
            floats = [i for i, t in enumerate(ema) if t.is_floating_point()]
            torch._foreach_lerp_([ema[i] for i in floats], [now[i] for i in floats], 1.0 - keep)
            others = [i for i, t in enumerate(ema) if not t.is_floating_point()]
            if others:
                torch._foreach_copy_([ema[i] for i in others], [now[i] for i in others])
        self.ema_updates += 1


class GanzooLoop:
    """ganzoo's trainer, driven the way ``ganzoo run`` drives it: ``fit()`` to a step."""

    def __init__(self, recipe: Any) -> None:
        self.trainer = build_ganzoo(recipe)

    def train(self, steps: int) -> None:
        self.trainer.fit(until=self.trainer.step + steps)


# ------------------------------------------------------------------ equivalence check
def check_same(case: str, sets: list[str], steps: int = 3) -> None:
    """Both loops, trained ``steps`` steps from the same seed, end with bit-identical weights (on a GPU, whose
    convolution kernels may sum in a different order each call: equal to float32 rounding)."""
    recipe = build_recipe(case, sets + ["train.log_every=1"])
    torch.manual_seed(1234)  # the global stream (gradient-penalty points) starts alike for both
    ours = GanzooLoop(recipe)
    torch.manual_seed(1234)
    ours.train(steps)
    plain = PlainLoop(recipe)
    torch.manual_seed(1234)
    plain.train(steps)
    t = ours.trainer
    pairs = [("generator", t.generator, plain.G), ("discriminator", t.discriminator, plain.D)]
    if plain.ema is not None:
        pairs.append(("generator-ema", t.ema.module, plain.ema))
    for role, a, b in pairs:
        sa, sb = a.state_dict(), b.state_dict()
        assert sa.keys() == sb.keys(), role
        exact = plain.device.type == "cpu"
        for key in sa:
            same = torch.equal(sa[key], sb[key]) if exact or not sa[key].is_floating_point() else torch.allclose(
                sa[key], sb[key], rtol=1e-4, atol=1e-6)
            if not same:
                diff = (sa[key].float() - sb[key].float()).abs().max().item()
                raise AssertionError(f"{case}: {role}.{key} differs between ganzoo and the plain loop (max {diff:g})")


# ------------------------------------------------------------------ timing
def timed(loop: Any, steps: int) -> tuple[float, float]:
    """Steps per second of wall-clock time, and per second of this process's CPU time (all its threads)."""
    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)
    sync()
    start, cpu = time.perf_counter(), time.process_time()
    loop.train(steps)
    sync()
    return steps / (time.perf_counter() - start), steps / max(time.process_time() - cpu, 1e-9)


def bench_case(case: str, sets: list[str], *, sessions: int, reps: int, chunk_s: float, warmup: int,
               a_a: bool = False) -> dict[str, Any]:
    """``sessions`` fresh pairs of loops (built in alternating order), each timed over ``reps`` ABBA repetitions.

    Fresh pairs because one instance of a loop can run a few percent faster or slower than another instance
    of the very same loop, for the whole of its life (where its tensors landed in memory, measured: two plain
    loops side by side differed by up to 6%); a single pair would report that as framework overhead.
    """
    recipe = build_recipe(case, sets)
    wall: dict[str, list[float]] = {"ganzoo": [], "plain": []}
    cpu: dict[str, list[float]] = {"ganzoo": [], "plain": []}
    warm: dict[str, list[float]] = {"ganzoo": [], "plain": []}
    steps = 0
    for session in range(sessions):
        makers = [("ganzoo", PlainLoop if a_a else GanzooLoop), ("plain", PlainLoop)]
        loops = dict((name, make(recipe)) for name, make in (makers if session % 2 == 0 else makers[::-1]))
        for name, loop in loops.items():
            start = time.perf_counter()
            loop.train(warmup)  # includes torch.compile's compiling when compile is on
            warm[name].append(time.perf_counter() - start)
        if not steps:  # one chunk length for the whole case, about chunk_s seconds
            rate = max(timed(loop, max(2, warmup // 2))[0] for loop in loops.values())
            steps = max(2, int(rate * chunk_s))
        for rep in range(reps):
            order = ["ganzoo", "plain"] if (rep + session) % 2 == 0 else ["plain", "ganzoo"]
            for name in order:
                w, c = timed(loops[name], steps)
                wall[name].append(w)
                cpu[name].append(c)
        del loops
    train = recipe.train
    result = {
        "case": case, "recipe": CASES.get(case, case), "batch_size": train.batch_size, "d_steps": train.d_steps,
        "a_a": a_a, "steps_per_chunk": steps, "sessions": sessions, "reps": reps, "warmup_steps": warmup,
        "warmup_s": {name: statistics.median(times) for name, times in warm.items()},
    }
    for clock, rates in (("wall", wall), ("cpu", cpu)):
        g, p = statistics.median(rates["ganzoo"]), statistics.median(rates["plain"])
        result[clock] = {
            "ganzoo_steps_s": g, "plain_steps_s": p, "ratio": g / p,
            "paired_ratio": statistics.median(a / b for a, b in zip(rates["ganzoo"], rates["plain"])),
            "ganzoo_all": rates["ganzoo"], "plain_all": rates["plain"],
        }
    return result


def machine() -> dict[str, Any]:
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.processor() or platform.platform()}",
        "python": platform.python_version(), "torch": torch.__version__, "ganzoo": ganzoo.__version__,
        "threads": torch.get_num_threads(), "loadavg": [round(v, 2) for v in os.getloadavg()],
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES), help=f"cases or recipe names (default: {' '.join(CASES)})")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                        help="recipe override applied to both loops (fast paths: train.compile, train.channels_last, "
                             "train.mixed_precision, optim.*.implementation)")
    parser.add_argument("--sessions", type=int, default=6, help="fresh pairs of loops per case (default 6)")
    parser.add_argument("--reps", type=int, default=8, help="alternating repetitions per pair (default 8)")
    parser.add_argument("--chunk-seconds", type=float, default=0.25, help="length of one timed chunk (default 0.25 s)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps of each new loop first (default 10)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads for both loops (default: torch's)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="train.device of both (default cpu)")
    parser.add_argument("--check", action="store_true", help="only check that both loops give identical weights")
    parser.add_argument("--a-a", action="store_true",
                        help="time the plain loop against a second plain loop: the harness's own noise floor")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    args.sets = [f'train.device="{args.device}"', *args.sets]
    if args.threads:
        torch.set_num_threads(args.threads)

    for case in args.cases:  # never time two loops that do different work
        start = time.perf_counter()
        check_same(case, args.sets)
        if "compile" in " ".join(args.sets):  # the first compiling happens here, not in the timed warm-up
            print(f"{case}: check, 3 steps of each loop, compiling included: {time.perf_counter() - start:.1f} s")
    same = "bit-identical" if args.device == "cpu" else "the same (to float32 rounding)"
    print(f"check: ganzoo and the plain loop give {same} weights in {', '.join(args.cases)}", flush=True)
    if args.check:
        return 0

    info = machine()
    results = []
    print(f"{info['date']}  {info['machine']}  torch {info['torch']}  threads {info['threads']}  "
          f"load {info['loadavg']}", flush=True)
    if args.a_a:
        print("A/A: the 'ganzoo' column is a second plain loop", flush=True)
    print(f"{'case':16} {'batch':>5} {'k':>2} {'ganzoo':>8} {'plain':>8} {'ratio':>6} {'of-medians':>10} "
          f"{'cpu-ratio':>9}   (steps/s, wall clock)")
    for case in args.cases:
        r = bench_case(case, args.sets, a_a=args.a_a, sessions=args.sessions, reps=args.reps, chunk_s=args.chunk_seconds, warmup=args.warmup)
        results.append(r)
        w, c = r["wall"], r["cpu"]
        flag = "" if w["paired_ratio"] >= TARGET else f"  < {TARGET}"
        print(f"{case:16} {r['batch_size']:>5} {r['d_steps']:>2} {w['ganzoo_steps_s']:>8.2f} {w['plain_steps_s']:>8.2f} "
              f"{w['paired_ratio']:>6.3f} {w['ratio']:>10.3f} {c['paired_ratio']:>9.3f}{flag}", flush=True)
        if "compile" in " ".join(args.sets):
            print(f"{'':16} warm-up of a new pair ({r['warmup_steps']} steps, recompiling for new modules): "
                  f"ganzoo {r['warmup_s']['ganzoo']:.1f} s, plain {r['warmup_s']['plain']:.1f} s", flush=True)
    info["loadavg_after"] = [round(v, 2) for v in os.getloadavg()]
    print(f"load average after: {info['loadavg_after']}")
    if args.json:
        args.json.write_text(json.dumps({**info, "sets": args.sets, "results": results}, indent=1))
    return 0 if all(r["wall"]["paired_ratio"] >= TARGET for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
