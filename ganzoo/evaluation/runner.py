"""Choosing metrics and running them: what ``ganzoo eval``, the training callback and scripts share.

Metrics come from the ``metrics`` registry. With no names given, every registered metric is asked whether
it fits the generator (``applies_to(context)``, see :mod:`ganzoo.hookspecs`); metrics without that method
run only when named. Results are ``{metric: {figure: float}}``; :func:`flatten` gives the
``"metric/figure"`` keys written to metrics.jsonl.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ganzoo import contracts
from ganzoo.errors import GanzooError
from ganzoo.evaluation.context import EvalContext

Results = dict[str, dict[str, float]]


def build_metric(name: str, table: Mapping[str, Any] | None = None, *, source: str = "metric options") -> Any:
    """A registered metric built with its options (a table checked against its options class)."""
    from ganzoo.registry import registries

    component = registries().component("metric", name)
    options = component.parse(table, source=source, path=name)
    return component.build(options)


def build_metrics(names: Iterable[str], options: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """Metrics by name, each with its table from ``options`` (``{"parzen": {"sigmas": [0.1]}}``)."""
    options = options or {}
    unused = sorted(set(options) - set(names))
    if unused:
        raise GanzooError(f"options given for metric {unused[0]!r}, which is not being computed")
    return {name: build_metric(name, options.get(name)) for name in names}


def applicable(metric: Any, context: EvalContext) -> bool:
    """Whether a metric fits this generator and should run by default (the ``applies_to`` contract)."""
    return contracts.applies_to(metric, context)


def misfit(name: str, context: EvalContext) -> str | None:
    """Why the metric's registration (``data_kinds``, ``conditional``) rules it out for this generator and
    data, or None; a metric registered by another means than the registry is not judged here."""
    from ganzoo.registry import registries

    found = registries()["metric"]
    info = context.data_info
    if name not in found or info is None:
        return None
    return found.get(name).validate_for(None, info, context.conditional)


def default_metrics(context: EvalContext, options: Mapping[str, Mapping[str, Any]] | None = None) -> list[str]:
    """Names of every registered metric that says it applies to ``context``'s generator and data."""
    from ganzoo.registry import registries

    options = options or {}
    chosen = []
    for component in registries()["metric"]:
        if misfit(component.name, context) is not None:
            continue
        metric = build_metric(component.name, options.get(component.name))
        if applicable(metric, context):
            chosen.append(component.name)
    return chosen


def run_metrics(context: EvalContext, metrics: Mapping[str, Any]) -> Results:
    """``compute(context)`` of each metric, its figures checked to be a ``{str: number}`` mapping."""
    results: Results = {}
    for name, metric in metrics.items():
        problem = misfit(name, context)
        if problem is not None:
            raise GanzooError(f"metric {name!r} does not fit this {context.describe()}: {problem}")
        figures = metric.compute(context)
        if not isinstance(figures, Mapping):
            raise TypeError(f"metric {name!r} returned {type(figures).__name__}, not a dict of figures")
        results[name] = {str(key): float(value) for key, value in figures.items()}
    return results


def evaluate(
    source: str | Path | EvalContext,
    metrics: Iterable[str] | None = None,
    *,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    **settings: Any,
) -> Results:
    """Evaluate a weights file, run directory or ready :class:`EvalContext`.

    ``metrics`` names registered metrics (default: those that apply); ``options`` gives each its option
    table; ``settings`` (``n``, ``seed``, ``device``, ``cache_dir``) build the context.
    """
    context = source if isinstance(source, EvalContext) else EvalContext.from_weights(source, **settings)
    names = list(metrics) if metrics is not None else default_metrics(context, options)
    if not names:
        raise GanzooError(
            f"no registered metric applies to this {context.describe()}; name one with --metric "
            "(see `ganzoo list metrics`)"
        )
    return run_metrics(context, build_metrics(names, options))


def flatten(results: Results) -> dict[str, float | None]:
    """``{"metric/figure": value}``, non-finite values as None so the row stays valid JSON."""
    return {
        f"{name}/{key}": (value if math.isfinite(value) else None)
        for name, figures in results.items()
        for key, value in figures.items()
    }
