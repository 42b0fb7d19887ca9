"""Progress for people: a rich bar with live figures and an ETA on a terminal, plain lines elsewhere."""

from __future__ import annotations

import sys
from typing import Any


def format_figures(row: dict[str, Any]) -> str:
    parts = [f"d_loss {row['d_loss']:.4f}", f"g_loss {row['g_loss']:.4f}",
             f"D(x) {row['d_real']:.3f}", f"D(G(z)) {row['d_fake']:.3f}"]
    if "penalty" in row:
        parts.append(f"gp {row['penalty']:.3f}")
    parts.append(f"{row['images_per_s']:.0f} img/s")
    return "  ".join(parts)


class Progress:
    """Shows the run's progress; silent when ``quiet`` or on a process other than the main one."""

    def __init__(self, total: int, *, start: int = 0, enabled: bool = True, title: str = "training") -> None:
        self.total, self.enabled, self.title = total, enabled, title
        self.live = enabled and sys.stderr.isatty()
        self._bar: Any = None
        if self.live:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn
            from rich.progress import TimeElapsedColumn, TimeRemainingColumn

            self._bar = RichProgress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), TextColumn("{task.fields[figures]}"),
                transient=False,
            )
            self._task = self._bar.add_task(title, total=total, completed=start, figures="")
            self._bar.start()

    def advance(self, step: int) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=step)

    def log(self, row: dict[str, Any]) -> None:
        if not self.enabled:
            return
        figures = format_figures(row)
        if self._bar is not None:
            self._bar.update(self._task, completed=row["step"], figures=figures)
        else:
            print(f"step {row['step']}/{self.total}  {figures}", file=sys.stderr, flush=True)

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
