"""Evaluation during training, as a Trainer callback: a recipe's ``[eval] every = N`` hooks in here.

Every ``every`` steps (and at the last step) the sampling generator (the EMA one when there is one) is
evaluated with the same noise seed each time, so the curve shows the model changing, not the noise. The
figures go into metrics.jsonl as ``"metric/figure"`` keys through the view's ``log_row``, and ``quality.png``
in the run directory is redrawn from that log (a resumed run keeps its whole curve). The global random
state is saved and restored around each evaluation: turning evaluation on never changes the training run.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ganzoo.evaluation.best import direction, is_best, save_best
from ganzoo.evaluation.context import EvalContext
from ganzoo.evaluation.plot import save_quality
from ganzoo.evaluation.runner import build_metrics, default_metrics, flatten, run_metrics
from ganzoo.recipe.schema import EvalOptions

if TYPE_CHECKING:  # pragma: no cover
    from ganzoo.training.view import StepView


class EvalCallback:
    """Call with the trainer's :class:`~ganzoo.training.view.StepView` after each step; evaluates on the main
    process when a step is due."""

    def __init__(self, options: EvalOptions, *, seed: int = 0, cache_dir: str | Path | None = None) -> None:
        self.options, self.seed, self.cache_dir = options, seed, cache_dir
        self._metrics: dict[str, Any] | None = None  # built once: metrics may memoise (real-data features)

    def due(self, view: StepView) -> bool:
        every = self.options.every
        return bool(every) and (view.step % every == 0 or view.step == view.total)

    def __call__(self, view: StepView) -> None:
        if not self.due(view) or not view.is_main_process:
            return
        if view.card is None:
            raise ValueError("evaluation during training needs the generator's ModelCard (Trainer(cards=...))")
        context = EvalContext(
            view.generator, view.card, n=self.options.samples, seed=self.seed,
            device=view.device, cache_dir=self.cache_dir, source=f"step {view.step}",
            trust_recipe=True,  # the card was built in this process from the user's own recipe
            discriminator=view.discriminator,
        )
        with torch.random.fork_rng(devices=[]):
            if self._metrics is None:
                names = list(self.options.metrics) or default_metrics(context)
                kept = self.options.keep_best.partition("/")[0]
                names += [kept] if kept and kept not in names else []
                self._metrics = build_metrics(names)
                if self.options.keep_best:
                    direction(self._metrics, self.options.keep_best)  # a bad name stops before any figure
            results = run_metrics(context, self._metrics)
        flat = flatten(results)
        view.log_row(flat)
        if view.run_folder is not None:
            from ganzoo.metrics_log import MetricsLog

            rows = MetricsLog(view.run_folder.metrics).rows()
            save_quality(rows, view.run_folder.quality)
            self._keep_best(view, rows, flat)

    def _keep_best(self, view: StepView, rows: list[dict[str, Any]], flat: dict[str, Any]) -> None:
        key = self.options.keep_best
        if not key or view.run_folder is None or view.card is None:
            return
        better = direction(self._metrics or {}, key)
        if is_best(rows, key, better, view.step):
            save_best(view, key, better, float(flat[key]))


def eval_callbacks(options: EvalOptions, *, seed: int = 0) -> list[EvalCallback]:
    """The callbacks a recipe's ``[eval]`` table asks for: none when ``every`` is 0."""
    if options.every and options.keep_best:  # a metric that cannot say which way is better: stop before training
        from ganzoo.evaluation.runner import build_metric

        name = options.keep_best.partition("/")[0]
        direction({name: build_metric(name)}, options.keep_best)
    return [EvalCallback(options, seed=seed)] if options.every else []
