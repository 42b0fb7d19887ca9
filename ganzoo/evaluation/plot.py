"""``quality.png``: each evaluation figure over training steps, one panel per figure (their scales differ:
modes count to 25, shares stay below 1)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ganzoo.atomic import atomic_path


def quality_series(rows: Iterable[dict[str, Any]]) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """``{metric: {figure: [(step, value), ...]}}`` from metrics.jsonl rows with ``"metric/figure"`` keys."""
    series: dict[str, dict[str, list[tuple[int, float]]]] = {}
    for row in rows:
        for key, value in row.items():
            metric, sep, figure = key.partition("/")
            if not sep or not isinstance(value, (int, float)) or isinstance(value, bool):
                continue
            series.setdefault(metric, {}).setdefault(figure, []).append((int(row.get("step", 0)), float(value)))
    return series


def save_quality(rows: Iterable[dict[str, Any]], path: Path) -> Path | None:
    """Draw the quality curves; None (no file) when the log holds no evaluation yet."""
    series = quality_series(rows)
    if not series:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(f"{metric}/{name}", points) for metric, figures in sorted(series.items())
              for name, points in sorted(figures.items())]
    columns = min(4, len(panels))
    rows_needed = math.ceil(len(panels) / columns)
    figure, axes = plt.subplots(rows_needed, columns, figsize=(4 * columns, 3 * rows_needed), squeeze=False)
    flat_axes = [ax for row in axes for ax in row]
    for ax, (title, points) in zip(flat_axes, panels):
        steps, values = zip(*points)
        ax.plot(steps, values, marker="o", markersize=3)
        ax.set_title(title, fontsize="small")
        ax.set_xlabel("step")
    for ax in flat_axes[len(panels):]:
        ax.axis("off")
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=90, format="png")
    plt.close(figure)
    return path
