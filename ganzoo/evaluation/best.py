"""``eval.keep_best = "metric/figure"``: keep the generator of the best evaluation as its own weights file.

GANs give no loss that says when to stop (StudioGAN's own log shows DCGAN's FID at 49 at step 42k and
137 by step 200k), so the run keeps ``generator-best.safetensors``: the sampling generator (the EMA one
when there is one) of the evaluation that scored best on the named figure. Which way is better is the
metric's to say: each metric declares ``better = {"figure": "lower" | "higher"}``; a figure it does not
declare (a floor, a count of samples) cannot be kept by. The file is an ordinary self-describing
generator file (``ganzoo sample``/``eval`` take it) whose metadata adds ``ganzoo.best``: the figure, its
value, the direction and the step. The best so far is read back from metrics.jsonl, so a resumed run keeps
comparing against the evaluations before the interruption.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ganzoo import contracts
from ganzoo.errors import GanzooError

META_KEY = "ganzoo.best"


def direction(metrics: Mapping[str, Any], key: str) -> str:
    """``"lower"`` or ``"higher"`` for ``"metric/figure"``, as the metric declares it; one line otherwise."""
    metric, _, figure = key.partition("/")
    if metric not in metrics:
        raise GanzooError(f"eval.keep_best = {key!r}: metric {metric!r} is not evaluated; add it to eval.metrics "
                          f"(evaluated: {', '.join(sorted(metrics)) or 'none'})")
    declared = contracts.better(metrics[metric])
    if figure not in declared:
        allowed = ", ".join(f"{metric}/{name}" for name in declared) or "none"
        raise GanzooError(f"eval.keep_best = {key!r}: {metric} does not say which way {figure!r} improves; "
                          f"allowed: {allowed}")
    return str(declared[figure])


def is_best(rows: Iterable[Mapping[str, Any]], key: str, better: str, step: int) -> bool:
    """Whether the evaluation at ``step`` is the best (the first such on ties) among the logged rows."""
    scored = [(int(row.get("step", 0)), float(row[key])) for row in rows
              if isinstance(row.get(key), (int, float)) and math.isfinite(float(row[key]))]
    if not scored or scored[-1][0] != step:
        return False
    value = scored[-1][1]
    earlier = [v for s, v in scored[:-1] if s < step]
    return not earlier or (value < min(earlier) if better == "lower" else value > max(earlier))


def save_best(view: Any, key: str, better: str, value: float) -> Path:
    """The sampling generator of a :class:`~ganzoo.training.view.StepView` as ``generator-best.safetensors``,
    its card (role ``generator-ema`` when the recipe keeps an EMA copy: that is the one sampled) and
    ``ganzoo.best`` inside, written as every weights file is (atomically, by :func:`ganzoo.weights.save_weights`)."""
    import attrs

    from ganzoo.weights import save_weights

    ema = float(((view.card.recipe or {}).get("train") or {}).get("ema") or 0.0) > 0
    card = attrs.evolve(view.card, role="generator-ema" if ema else "generator", step=view.step)
    best = {"figure": key, "value": value, "better": better, "step": view.step}
    return save_weights(view.generator, view.run_folder.best, card, extra={META_KEY: json.dumps(best)})
