"""``ganzoo eval WEIGHTS_OR_RUN_DIR``: measure a generator's quality offline, as a table or JSON.

Everything the user typed (path, metric names, ``--set METRIC.OPTION=VALUE``) is checked before torch is
imported, so a typo costs no start-up time and exits 2 with one line. Without ``--metric``, every
registered metric that says it applies to the generator and its data runs.
"""

from __future__ import annotations

import argparse
import math
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ganzoo import contracts
from ganzoo.cli import render
from ganzoo.cli.guide_args import add_guide_arguments, check_guide_arguments, guide_options, guide_summary
from ganzoo.errors import GanzooError

DEFAULT_SAMPLES = 2500  # the mode-collapse protocol's sample count


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("eval", help="measure a generator's quality offline (weights file or run directory)")
    parser.add_argument("weights", type=Path, metavar="WEIGHTS_OR_RUN_DIR")
    parser.add_argument("--metric", dest="metrics", action="append", metavar="NAME",
                        help="a registered metric (repeatable; default: every metric that applies; "
                             "see `ganzoo list metrics`)")
    parser.add_argument("-n", type=int, default=DEFAULT_SAMPLES,
                        help=f"generated samples (default {DEFAULT_SAMPLES})")
    parser.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    parser.add_argument("--set", dest="options", action="append", default=[], metavar="METRIC.OPTION=VALUE",
                        help="a metric option, e.g. --set fid.real=test (repeatable)")
    parser.add_argument("--data", dest="data_options", action="append", default=[], metavar="OPTION=VALUE",
                        help="a dataset option for this machine, e.g. --data root=/datasets (repeatable); data "
                             "folders and downloads are never taken from the weights file")
    parser.add_argument("--inception-weights", type=Path, metavar="FILE",
                        help="Inception v3 weights (pt_inception-2015-12-05) for fid, kid, isc and prc; sets the "
                             "`weights` option of every metric run that has one (default: $GANZOO_INCEPTION_WEIGHTS)")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto", help="default: auto")
    add_guide_arguments(parser, "evaluate D-guided samples instead of plain ones")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=evaluate)


def metric_options(texts: Iterable[str], chosen: list[str] | None) -> dict[str, dict[str, Any]]:
    """``--set`` values as ``{metric: {option: value}}``, each table checked by its metric's options class."""
    from ganzoo.recipe import parse_override
    from ganzoo.registry import registries

    found = registries()["metric"]
    tables: dict[str, dict[str, Any]] = {}
    for text in texts:
        key, value = parse_override(text, "--set")
        metric, _, name = key.partition(".")
        if not name or "." in name:
            raise GanzooError(f"--set {text}: expected METRIC.OPTION=VALUE, e.g. --set parzen.test_points=1000")
        found.get(metric)  # unknown metric: one line with the closest names
        if chosen is not None and metric not in chosen:
            raise GanzooError(f"--set {text}: metric {metric!r} is not among the --metric names given")
        tables.setdefault(metric, {})[name] = value
    for metric, table in tables.items():
        found.get(metric).parse(table, source="--set", path=metric)
    return tables


def check_arguments(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Every check that needs no torch; returns the metric option tables."""
    from ganzoo.registry import registries

    if args.n < 2:
        raise GanzooError(f"-n {args.n}: must be >= 2")
    if not 0 <= args.seed < 2**32:
        raise GanzooError(f"--seed {args.seed}: must be between 0 and {2**32 - 1}")
    if args.n > 1_000_000:
        raise GanzooError(f"-n {args.n}: must be <= 1000000")
    check_guide_arguments(args)
    from ganzoo.hub import is_repo_id

    if not args.weights.exists() and not is_repo_id(str(args.weights)):
        raise GanzooError(f"{args.weights}: no such weights file or run directory")
    if args.metrics:
        for name in args.metrics:
            registries()["metric"].get(name)
    chosen = list(dict.fromkeys(args.metrics)) if args.metrics else None
    tables = metric_options(args.options, chosen)
    if args.inception_weights is not None:
        give_weights(tables, args.inception_weights, chosen)
    return tables


def give_weights(tables: dict[str, dict[str, Any]], path: Path, chosen: list[str] | None) -> None:
    """``--inception-weights FILE`` as the ``weights`` option of each metric (named, or any) that has one."""
    from ganzoo.registry import registries

    if not path.is_file():
        raise GanzooError(f"--inception-weights {path}: no such file")
    names = chosen if chosen is not None else [component.name for component in registries()["metric"]]
    takers = [name for name in names if _takes_weights(registries()["metric"].get(name).options)]
    if not takers:
        raise GanzooError(f"--inception-weights: none of the metrics named ({', '.join(names)}) takes weights; "
                          "it is for fid, kid, isc and prc")
    for name in takers:
        tables.setdefault(name, {}).setdefault("weights", str(path))


def _takes_weights(options_class: Any) -> bool:
    import attrs

    return options_class is not None and attrs.has(options_class) and "weights" in attrs.fields_dict(options_class)


def data_options(texts: Iterable[str]) -> dict[str, Any]:
    """``--data OPTION=VALUE`` as a table; the dataset's options class judges it once the dataset is known."""
    from ganzoo.recipe import parse_override

    table: dict[str, Any] = {}
    for text in texts:
        key, value = parse_override(text, "--data")
        if "." in key:
            raise GanzooError(f"--data {text}: expected OPTION=VALUE, e.g. --data root=/datasets")
        table[key] = value
    return table


def evaluate(args: argparse.Namespace) -> int:
    options = check_arguments(args)
    user_data = data_options(args.data_options)

    from ganzoo.evaluation import EvalContext, build_metrics, default_metrics
    from ganzoo.evaluation.runner import run_metrics

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        context = EvalContext.from_weights(
            args.weights, n=args.n, seed=args.seed, device=args.device, data_options=user_data
        )
        if args.guide:
            from ganzoo.guided import guided_generator

            context.generator = guided_generator(args.weights, args.guide, seed=args.seed, device=context.device,
                                                 **guide_options(args))
        names = list(dict.fromkeys(args.metrics)) if args.metrics else default_metrics(context, options)
        if not args.metrics:  # --inception-weights was offered to every metric that takes weights
            options = {name: table for name, table in options.items() if name in names or set(table) != {"weights"}}
        if not names:
            raise GanzooError(
                f"no registered metric applies to this {context.describe()}; name one with --metric "
                "(see `ganzoo list metrics`)"
            )
        metrics = build_metrics(names, options)
        results = run_metrics(context, metrics)
    notes = list(dict.fromkeys(str(w.message) for w in caught))
    report = {
        "weights": context.source,
        "generator": context.card.component,
        "dataset": context.dataset_name,
        "conditional": context.conditional,
        "step": context.card.step,
        "guide": args.guide,
        "guide_options": guide_summary(args, context.generator),
        "n": args.n,
        "seed": args.seed,
        "metrics": {name: {k: _finite(v) for k, v in figures.items()} for name, figures in results.items()},
        "protocols": {name: contracts.protocol(metric) for name, metric in metrics.items()
                      if contracts.protocol(metric)},
        "warnings": notes,
    }
    if args.json:
        render.emit_json(report)
    else:
        for note in notes:
            render.warn(note)
        show_table(report, context.describe())
    return 0


def show_table(report: dict[str, Any], description: str) -> None:
    step = f", step {report['step']}" if report.get("step") is not None else ""
    from rich.markup import escape

    guide = ""
    if report.get("guide"):
        knobs = ", ".join(f"{k} {_format(v)}" for k, v in report["guide_options"].items() if k != "method")
        guide = f", guided by D ({report['guide']}, {knobs})"
    render.console().print(escape(f"{report['weights']}: {description}{step}{guide}; n={report['n']}, "
                                  f"seed={report['seed']}"))
    rows = [[metric, figure, _format(value)] for metric, figures in report["metrics"].items()
            for figure, value in figures.items()]
    render.table("Quality", ["metric", "figure", "value"], rows)
    for metric, protocol in report.get("protocols", {}).items():
        render.console().print(escape(f"{metric} protocol: " + "; ".join(f"{k} {v}" for k, v in protocol.items())))
    for line in worst_classes(report["metrics"]):
        render.console().print(escape(line))


def worst_classes(metrics: dict[str, dict[str, float | None]]) -> list[str]:
    """``worst class by intra-class diversity: 3`` for each ``*worst_class`` figure: a per-class metric
    names the class that an average would hide."""
    lines = []
    for metric, figures in metrics.items():
        for figure, value in figures.items():
            if figure.endswith("worst_class") and value is not None:
                what = figure.removesuffix("worst_class").rstrip("_")
                lines.append(f"worst class by {metric}{' ' + what if what else ''}: {int(value)}")
    return lines


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _format(value: float | None) -> str:
    if value is None:
        return "n/a"
    if float(value).is_integer() and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.4g}"
