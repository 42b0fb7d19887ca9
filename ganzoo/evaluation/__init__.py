"""Evaluation machinery shared by every metric: the context a metric computes from, sample generation,
Fréchet distance math, the cache folder, the runner behind ``ganzoo eval`` and the training callback.

The core names no concrete metric or dataset: metrics come from the ``metrics`` registry (plugins), and
each says whether it fits a generator through its own ``applies_to(context)``.
"""

from __future__ import annotations

from ganzoo.evaluation.cache import cache_dir
from ganzoo.evaluation.context import EvalContext
from ganzoo.evaluation.runner import build_metrics, default_metrics, evaluate, flatten
from ganzoo.evaluation.warn import EvaluationWarning

__all__ = ["EvalContext", "EvaluationWarning", "build_metrics", "cache_dir", "default_metrics", "evaluate", "flatten"]
