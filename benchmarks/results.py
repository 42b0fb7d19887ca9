"""Train the offline shipped recipes over several seeds, evaluate them, and write the quality table.

    python benchmarks/results.py                                  # every offline recipe, seeds 0 1 2
    python benchmarks/results.py --recipes vanilla-ring8 --seeds 0 --steps 200 --out /tmp/quick.md
    python benchmarks/results.py --jobs 2 --threads 1             # two runs at once on a 2-core machine

Each run trains a shipped recipe with ``seed`` and (optionally) ``train.steps`` overridden, then runs the
metrics that apply to it (``ganzoo eval``'s default choice) with a fixed evaluation seed, so seeds vary
the training only. The table gives mean ± std over seeds beside the published anchors, and says which of
ganzoo's aims each recipe meets. Output: markdown (default ``benchmarks/RESULTS-quality.md``), printed too.

Offline recipes are those whose data needs no download (ring8, grid25, digits).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ganzoo.cli.guide_args import DEFAULT_QUANTILE, DEFAULT_STEPS  # torch-free

OFFLINE_DATA = ("ring8", "grid25", "digits")
HERE = Path(__file__).resolve().parent

# Published anchors: (method, modes, high-quality %), from the GDPP, PacGAN and VEEGAN papers.
GDPP, PACGAN, VANILLA = "GDPP (best published modes)", "PacGAN2", "vanilla GAN (VEEGAN's table)"
ANCHORS = {
    "ring8": [(GDPP, 8.0, 71.7), (PACGAN, 7.9, 95.6), (VANILLA, 1.0, 99.3)],
    "grid25": [(GDPP, 24.8, 68.5), (PACGAN, 23.8, 91.3), (VANILLA, 3.3, 0.5)],
}
AIMS = {"ring8": (8, 0.97), "grid25": (25, 0.95)}  # dataset -> (every mode, minimum high-quality share)
AIM_ACCURACY, AIM_FD_RATIO = 0.97, 3.0
# Aims of every image recipe (issue 24): (figure, comparison, bound: a number or another figure of the same run).
UNCONDITIONAL_AIMS = [("classifier-fd/fd_ratio", "<=", AIM_FD_RATIO), ("prdc/recall_ratio", ">=", 0.8),
                      ("prdc/coverage_ratio", ">=", 0.7), ("class-coverage/classes", ">=", 10)]
CONDITIONAL_AIMS = [("classifier-fd/fd_ratio", "<=", AIM_FD_RATIO), ("prdc/recall_ratio", ">=", 0.8),
                    ("prdc/coverage_ratio", ">=", 0.7), ("conditional-accuracy/accuracy", ">=", AIM_ACCURACY),
                    ("intra-class/diversity_min", ">=", 0.85),
                    ("duplicates/rate_max", "<=", "duplicates/floor_max")]
# Recipes held to other aims: the main recipe's own (coverage 0.8x), InfoGAN's code, the 1000-mode test, and
# the saturating loss that is bad on purpose.
IMAGE_AIMS = {
    "cdcgan-digits": [*CONDITIONAL_AIMS[:2], ("prdc/coverage_ratio", ">=", 0.8), *CONDITIONAL_AIMS[3:]],
    "infogan-digits": [*UNCONDITIONAL_AIMS, ("infogan-codes/error", "<=", 0.05)],
    "dcgan-stacked-digits": [],
    "r3gan-stacked-digits": [("stacked-modes/modes", ">=", 1000), ("stacked-modes/kl", "<=", 0.1)],
    "minimax-digits": [],
}


def aims_of(name: str, runs: list[dict]) -> list[tuple[str, str, Any]]:
    """The aims ``name``'s runs are held to: its own, or those of every (un)conditional image recipe."""
    if name in IMAGE_AIMS:
        return IMAGE_AIMS[name]
    return CONDITIONAL_AIMS if "conditional-accuracy" in runs[0]["metrics"] else UNCONDITIONAL_AIMS


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="+", metavar="NAME",
                        help="shipped recipe names (default: every offline one)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], help="training seeds (default 0 1 2)")
    parser.add_argument("--steps", type=int, help="override train.steps (default: each recipe's own)")
    parser.add_argument("-n", type=int, default=2500, help="generated samples per evaluation (default 2500)")
    parser.add_argument("--eval-seed", type=int, default=0, help="noise seed of every evaluation (default 0)")
    parser.add_argument("--runs", type=Path, default=HERE / "runs",
                        help="run directories go in a fresh RUNS/<timestamp>-<random>/ folder "
                        "(default benchmarks/runs)")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS-quality.md", help="the markdown table")
    parser.add_argument("--json", type=Path, help="also write every run's figures as JSON here")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="runs at once, each in its own process (default 1; with --threads 1, up to the cores)")
    parser.add_argument("--guide", nargs="+", choices=["drs", "mh"], default=[],
                        help="also evaluate each run with D-guided sampling (rows of their own)")
    parser.add_argument("--guide-quantile", type=float, default=DEFAULT_QUANTILE, metavar="Q",
                        help=f"drs: the burn-in quantile that sets the acceptance shift (default {DEFAULT_QUANTILE})")
    parser.add_argument("--guide-steps", type=int, default=DEFAULT_STEPS, metavar="N",
                        help=f"mh: proposals in each chain (default {DEFAULT_STEPS})")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="an extra recipe override for every run (repeatable)")
    return parser.parse_args(argv)


def offline_recipes() -> list[str]:
    from ganzoo.recipe import load_recipe, shipped_recipes

    return [name for name in shipped_recipes() if load_recipe(name).data.name in OFFLINE_DATA]


def train_and_evaluate(name: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    """One run: train the recipe with this seed, evaluate the default metrics; figures and timings."""
    import torch

    from ganzoo.api import run_recipe
    from ganzoo.evaluation import evaluate

    overrides = [f"seed={seed}", "train.sample_every=0", "train.checkpoint_every=0", *args.overrides]
    if args.steps:
        overrides.append(f"train.steps={args.steps}")
    if args.threads:
        overrides.append(f"train.threads={args.threads}")
    out = args.folder / f"{name}-seed{seed}"
    if args.threads:  # the evaluation too, in a worker process
        torch.set_num_threads(args.threads)
    print(f"{name} seed {seed}...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    result = run_recipe(name, overrides=overrides, out=out, quiet=True)
    trained = time.perf_counter() - started
    figures = evaluate(out, n=args.n, seed=args.eval_seed)
    row = {"recipe": name, "seed": seed, "steps": result.step, "train_s": trained,
           "eval_s": time.perf_counter() - started - trained, "run_dir": str(out), "metrics": figures}
    return [row, *(guided_row(row, method, args) for method in args.guide)]


def guided_row(row: dict[str, Any], method: str, args: argparse.Namespace) -> dict[str, Any]:
    """The same run evaluated on D-guided samples: a row of its own, ``recipe + method``."""
    from ganzoo.evaluation import EvalContext, evaluate
    from ganzoo.guided import guided_generator

    started = time.perf_counter()
    context = EvalContext.from_weights(row["run_dir"], n=args.n, seed=args.eval_seed)
    context.generator = guided_generator(row["run_dir"], method, seed=args.eval_seed, device=context.device,
                                         quantile=args.guide_quantile, steps=args.guide_steps)
    figures = evaluate(context)
    return {**row, "recipe": f"{row['recipe']} + {guide_label(method, args)}", "guide": method, "base": row["recipe"],
            "eval_s": time.perf_counter() - started, "metrics": figures,
            "acceptance": context.generator.accepted / max(1, context.generator.proposed)}


def guide_label(method: str, args: argparse.Namespace) -> str:
    """``drs`` or ``mh``, with its knob when it is not the default (so tables of two settings do not merge)."""
    if method == "drs" and args.guide_quantile != DEFAULT_QUANTILE:
        return f"drs (quantile {args.guide_quantile:g})"
    if method == "mh" and args.guide_steps != DEFAULT_STEPS:
        return f"mh ({args.guide_steps} steps)"
    return method


def work(name: str, args: argparse.Namespace) -> int:
    """A rough cost of one run, to start the longest first: discriminator steps."""
    from ganzoo.recipe import load_recipe

    train = load_recipe(name).train
    return (args.steps or train.steps) * train.d_steps


def mean_std(values: list[float]) -> tuple[float, float]:
    values = [v for v in values if math.isfinite(v)]
    if not values:
        return math.nan, math.nan
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def cell(runs: list[dict], metric: str, figure: str, scale: float = 1.0, digits: int = 2) -> str:
    values = [run["metrics"][metric][figure] * scale for run in runs if figure in run["metrics"].get(metric, {})]
    if not values:
        return "–"
    mean, std = mean_std(values)
    return f"{mean:.{digits}f} ± {std:.{digits}f}" if len(values) > 1 else f"{mean:.{digits}f}"


def dataset_of(name: str) -> str:
    from ganzoo.recipe import load_recipe

    return load_recipe(name.split(" + ")[0]).data.name


def mixture_section(by_recipe: dict[str, list[dict]]) -> list[str]:
    if not any(dataset_of(name) in ANCHORS for name in by_recipe):
        return []
    lines = [
        "## 2-D mixtures (mode coverage: 2,500 samples, high quality = within 3 std of the nearest mode)", "",
        "| recipe / method | seeds | steps | modes | high quality % | reverse KL | aim met |",
        "|---|---|---|---|---|---|---|",
    ]
    notes = []
    for name, runs in by_recipe.items():
        data = dataset_of(name)
        if data not in ANCHORS:
            continue
        notes += [f"- {name}: {miss}" for miss in misses(runs, [("mode-coverage/modes", ">=", AIMS[data][0]),
                                                                ("mode-coverage/high_quality", ">=", AIMS[data][1])])]
        modes = cell(runs, "mode-coverage", "modes", digits=1)
        quality = cell(runs, "mode-coverage", "high_quality", 100, 1)
        kl = cell(runs, "mode-coverage", "reverse_kl", digits=3)
        lines.append(f"| **{name}** (ganzoo) | {len(runs)} | {runs[0]['steps']} | {modes} | {quality} | {kl} "
                     f"| {aim_mixture(data, runs)} |")
    present = {dataset_of(name) for name in by_recipe}
    for data in (d for d in ANCHORS if d in present):  # ring before grid, as the recipes run
        for method, modes, quality in ANCHORS[data]:
            lines.append(f"| {method} on {data} | published | | {modes:.1f} | {quality:.1f} | | |")
    aims = "; ".join(f"{d}: all {m} modes and ≥ {q:.0%} high quality" for d, (m, q) in AIMS.items() if d in present)
    return lines + ["", f"Aims: {aims} (every seed).", "",
                    *(["Missed aims, by how much:", "", *notes, ""] if notes else [])]


def aim_mixture(data: str, runs: list[dict]) -> str:
    modes, quality = AIMS[data]
    figures = [run["metrics"]["mode-coverage"] for run in runs]
    return "yes" if all(f["modes"] >= modes and f["high_quality"] >= quality for f in figures) else "no"


def image_section(by_recipe: dict[str, list[dict]]) -> list[str]:
    rows = {name: runs for name, runs in by_recipe.items() if dataset_of(name) not in ANCHORS}
    if not rows:
        return []
    lines = [
        "## Labelled images (in the features of a classifier trained by ganzoo on the real training split)", "",
        "| recipe | seeds | steps | conditional accuracy % | FD / floor | recall / floor | coverage / floor "
        "| precision | worst-class diversity | worst-class duplicates (real) | classes covered | aim met |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    notes = []
    for name, runs in rows.items():
        accuracy = cell(runs, "conditional-accuracy", "accuracy", 100, 1)
        ratios = " | ".join(cell(runs, metric, key) for metric, key in
                            (("classifier-fd", "fd_ratio"), ("prdc", "recall_ratio"), ("prdc", "coverage_ratio"),
                             ("prdc", "precision"), ("intra-class", "diversity_min")))
        worst, real = (cell(runs, "duplicates", key, 100, 2) for key in ("rate_max", "floor_max"))
        duplicates = f"{worst} % ({real} %)"
        classes = cell(runs, "class-coverage", "classes", digits=1)
        missed = misses(runs, aims_of(name.split(" + ")[0], runs))
        lines.append(f"| **{name}** | {len(runs)} | {runs[0]['steps']} | {accuracy} | {ratios} | {duplicates} "
                     f"| {classes} | {'no' if missed else 'yes'} |")
        notes += [f"- {name}: {miss}" for miss in missed]
    floors = next(iter(rows.values()))[0]["metrics"]
    floor_text = ", ".join(f"{label} {floors[m][k]:.3g}" for label, m, k in
                           (("FD", "classifier-fd", "fd_floor"), ("recall", "prdc", "recall_floor"),
                            ("coverage", "prdc", "coverage_floor"), ("precision", "prdc", "precision_floor"))
                           if k in floors.get(m, {}))
    aims = "; ".join(f"{name}: " + (", ".join(f"{f} {op} {b}" for f, op, b in checks) or "none")
                     for name, checks in IMAGE_AIMS.items() if name in rows)
    everyone = "; ".join(f"{kind}: " + ", ".join(f"{f} {op} {b}" for f, op, b in checks)
                         for kind, checks in (("conditional", CONDITIONAL_AIMS), ("unconditional", UNCONDITIONAL_AIMS)))
    return lines + [
        "", f"Real-data floors (real test split against the real training split): {floor_text}. Diversity is the "
        "worst class's mean pairwise distance over the real class's (intra-class/diversity_min, real test split "
        "≈ 1); duplicates: the worst class's share of sample pairs closer than the closest real pair, beside the "
        "real test split's highest class rate. Unconditional generators are split by the classifier's predicted "
        "class.", "", f"Aims (every seed): {aims + '; ' if aims else ''}other recipes, {everyone}.", "",
        *(["Missed aims, by how much:", "", *notes, ""] if notes else []),
    ]


def misses(runs: list[dict], aims: list[tuple[str, str, Any]]) -> list[str]:
    """Each aim a run misses: ``figure value < bound (seed s)``; none when every seed meets every aim."""
    out = []
    for figure, op, bound in aims:
        for run in runs:
            value = _figure(run, figure)
            limit = _figure(run, bound) if isinstance(bound, str) else float(bound)
            if value is None or limit is None:
                out.append(f"{figure} not measured (seed {run['seed']})")
            elif not (value >= limit if op == ">=" else value <= limit) and not _same(value, limit):
                out.append(f"{figure} {value:.3g}, aim {op} {limit:.3g} (seed {run['seed']})")
    return out


def _same(value: float, limit: float) -> bool:
    """Equal but for float rounding: a chunked mean of the same count (duplicates' 1/630 against the floor's
    1/630) can land one ulp above the bound, and "no more than the real data" is met by as many."""
    return math.isclose(value, limit, rel_tol=1e-9, abs_tol=0.0)


def _figure(run: dict, key: str) -> float | None:
    metric, _, figure = key.partition("/")
    value = run["metrics"].get(metric, {}).get(figure)
    return None if value is None or not math.isfinite(value) else float(value)


def per_run_section(results: list[dict]) -> list[str]:
    lines = ["## Every run", "", "| recipe | seed | steps | train s | eval s | figures |", "|---|---|---|---|---|---|"]
    for run in results:
        figures = ", ".join(f"{m}/{k} {v:.4g}" for m, fs in run["metrics"].items() for k, v in fs.items()
                            if not k.startswith("total_") and "floor" not in k and k != "classifier_test_accuracy")
        if "acceptance" in run:
            figures += f", accepted {run['acceptance']:.0%} of proposals"
        timing = f"{run['train_s']:.0f} | {run['eval_s']:.0f}"
        lines.append(f"| {run['recipe']} | {run['seed']} | {run['steps']} | {timing} | {figures} |")
    return lines + [""]


def render(results: list[dict], args: argparse.Namespace) -> str:
    import torch

    from ganzoo import __version__

    by_recipe: dict[str, list[dict]] = {}
    for run in results:
        by_recipe.setdefault(run["recipe"], []).append(run)
    header = [
        "# ganzoo: quality of the offline recipes", "",
        f"Generated by `python benchmarks/{Path(__file__).name} {' '.join(sys.argv[1:])}` on "
        f"{dt.datetime.now():%Y-%m-%d %H:%M}: ganzoo {__version__}, torch {torch.__version__}, "
        f"Python {platform.python_version()}, {'CUDA' if torch.cuda.is_available() else 'CPU'}; "
        f"seeds {' '.join(map(str, args.seeds))}; {args.n} samples per evaluation, "
        f"evaluation seed {args.eval_seed}. Mean ± std over seeds.", "",
    ]
    return "\n".join(header + mixture_section(by_recipe) + image_section(by_recipe) + per_run_section(results))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    from ganzoo.atomic import write_text_atomic

    if args.threads:
        torch.set_num_threads(args.threads)
    names = args.recipes or offline_recipes()
    args.runs.mkdir(parents=True, exist_ok=True)  # a fresh folder, even for two invocations in one second
    args.folder = Path(tempfile.mkdtemp(prefix=dt.datetime.now().strftime("%Y%m%d-%H%M%S-"), dir=args.runs))
    runs = [(name, seed) for name in names for seed in args.seeds]
    if args.jobs > 1:  # fresh processes (spawn): each run starts from a clean torch and accelerate state
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        longest_first = sorted(runs, key=lambda run: -work(run[0], args))  # no long run left to finish alone
        with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            done = dict(zip(longest_first, pool.map(train_and_evaluate, *zip(*longest_first),
                                                    [args] * len(runs))))
        rows = [done[run] for run in runs]  # the table in the order asked for
    else:
        rows = [train_and_evaluate(name, seed, args) for name, seed in runs]
    # plain rows first, then each guided method's, so a recipe's D-guided rows sit together under it
    results = sorted((row for group in rows for row in group),
                     key=lambda row: (names.index(row.get("base", row["recipe"])), row.get("guide") or "",
                                      args.seeds.index(row["seed"])))
    text = render(results, args)
    write_text_atomic(args.out, text)
    if args.json:
        write_text_atomic(args.json, json.dumps(results, indent=2))
    print(text)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
