"""Progress for people: a rich bar with live figures and an ETA on a terminal, plain lines elsewhere.

The ETA comes from recent steps only (a sliding window that starts after the first step), so a slow start
(imports, allocation, compiling) does not inflate it for the rest of the run. Figures are shown as soon as
they exist: on a terminal the trainer offers a few early peeks before the first logged row
(:meth:`Progress.wants_early`), and evaluation figures join the training ones when they are logged.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from typing import Any

WINDOW = 200  # recent progress marks the ETA is measured over
EVAL_SHOWN = 3  # evaluation figures shown beside the training ones


def format_figures(row: dict[str, Any]) -> str:
    parts = [f"d_loss {row['d_loss']:.4f}", f"g_loss {row['g_loss']:.4f}",
             f"D(x) {row['d_real']:.3f}", f"D(G(z)) {row['d_fake']:.3f}"]
    if "penalty" in row:
        parts.append(f"gp {row['penalty']:.3f}")
    parts += [f"{key.removeprefix('augment_')} {value:.3f}" for key, value in row.items() if key.startswith("augment_")]
    parts.append(f"{row['images_per_s']:.0f} img/s")
    return "  ".join(parts)


def format_eval(row: dict[str, Any], limit: int = EVAL_SHOWN) -> str:
    """The first few ``metric/figure`` values of an evaluation row: ``mode-coverage/modes 8``."""
    parts = [f"{key} {value:.4g}" for key, value in row.items()
             if "/" in key and isinstance(value, (int, float)) and not isinstance(value, bool)]
    more = f" (+{len(parts) - limit} in metrics.jsonl)" if len(parts) > limit else ""
    return "  ".join(parts[:limit]) + more


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-:--:--"
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Eta:
    """Seconds left, from the rate over the last :data:`WINDOW` progress marks; None until two exist."""

    def __init__(self, total: int, clock: Any = time.perf_counter) -> None:
        self.total, self.clock = total, clock
        self.marks: deque[tuple[float, int]] = deque(maxlen=WINDOW)

    def mark(self, step: int) -> None:
        self.marks.append((self.clock(), step))

    def seconds_left(self) -> float | None:
        if len(self.marks) < 2:
            return None
        (t0, s0), (t1, s1) = self.marks[0], self.marks[-1]
        if s1 <= s0 or t1 <= t0:
            return None
        return (self.total - s1) * (t1 - t0) / (s1 - s0)


class Progress:
    """Shows the run's progress; silent when ``quiet`` or on a process other than the main one."""

    EARLY = (1, 2, 5, 10, 20)  # steps at which a live display peeks at the figures before the first log

    def __init__(self, total: int, *, start: int = 0, enabled: bool = True, title: str = "training") -> None:
        self.total, self.enabled, self.title = total, enabled, title
        self.live = enabled and sys.stderr.isatty()
        self.eta = Eta(total)
        self._train, self._eval, self._logged = "", "", False
        self._bar: Any = None
        if self.live:
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

            self._bar = _BarAndFigures(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), TextColumn("eta {task.fields[eta]}"), transient=False,
            )
            self._task = self._bar.add_task(title, total=total, completed=start, figures="", eta=format_duration(None))
            self._bar.start()

    def advance(self, step: int) -> None:
        if not self.enabled:
            return
        self.eta.mark(step)
        if self._bar is not None:
            self._bar.update(self._task, completed=step, eta=format_duration(self.eta.seconds_left()))

    def wants_early(self, step: int) -> bool:
        """Whether the live display would like the figures so far at ``step`` (before anything was logged)."""
        return self._bar is not None and not self._logged and step in self.EARLY

    def early(self, row: dict[str, Any]) -> None:
        """Figures of the steps so far, shown (marked with their step) until the first logged row."""
        if self.wants_early(row["step"]):
            self._train = f"{format_figures(row)} @{row['step']}"
            self._refresh(row["step"])

    def log(self, row: dict[str, Any]) -> None:
        """A metrics row: training figures (losses, D outputs) or an evaluation's ``metric/figure`` values."""
        if not self.enabled:
            return
        is_training = "d_loss" in row
        text = format_figures(row) if is_training else format_eval(row)
        if not text:
            return
        if is_training:
            self._train, self._logged = text, True
        else:
            self._eval = text
        if self._bar is not None:
            self._refresh(row["step"])
        else:
            eta = format_duration(self.eta.seconds_left())
            kind = "" if is_training else "eval  "
            print(f"step {row['step']}/{self.total}  {kind}{text}  eta {eta}", file=sys.stderr, flush=True)

    def _refresh(self, step: int) -> None:
        figures = "\n".join(part for part in (self._train, self._eval) if part)
        self._bar.update(self._task, completed=step, figures=figures)

    def message(self, text: str) -> None:
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def _bar_and_figures() -> type:
    from rich.progress import Progress as RichProgress
    from rich.text import Text

    class BarAndFigures(RichProgress):
        """The bar on one line, the figures beneath it (wrapped at words): side by side, an 80-column
        terminal squeezed both to a few characters."""

        def get_renderables(self):  # noqa: ANN202 - rich's own signature
            yield self.make_tasks_table(self.tasks)
            for task in self.tasks:
                if task.fields.get("figures"):
                    yield Text(task.fields["figures"], style="dim" if "@" in task.fields["figures"] else "")

    return BarAndFigures


def _BarAndFigures(*columns: Any, **options: Any) -> Any:  # noqa: N802 - built on first use: rich loads lazily
    return _bar_and_figures()(*columns, **options)
