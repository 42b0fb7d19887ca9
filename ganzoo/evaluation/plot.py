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


# The evaluation panel of curves.png: the headline figures only (the full set is in quality.png). Ratios to
# a real-data floor go on the left axis (1 = as good as real data), shares and ratios to real on the right.
FLOOR_RATIOS = ("fd_ratio", "ifid_worst_ratio")
SHARES = ("accuracy", "high_quality", "diversity_min", "recall_ratio", "coverage_ratio", "rate_max")


def draw_evaluation(ax: Any, rows: Iterable[dict[str, Any]]) -> bool:
    """Draw the headline evaluation figures over steps on ``ax`` (a twin axis for the shares); False when
    the rows hold none of them."""
    series = quality_series(rows)
    left = [(f"{m}/{f}", p) for m, figures in sorted(series.items()) for f, p in figures.items() if f in FLOOR_RATIOS]
    right = [(f"{m}/{f}", p) for m, figures in sorted(series.items()) for f, p in figures.items() if f in SHARES]
    if not left and not right:
        return False
    ax.set_title("evaluation")
    ax.set_xlabel("step")
    lines = []
    for title, points in left:
        lines += ax.plot(*zip(*points), marker="o", markersize=3, label=title)
    if left:
        ax.set_ylabel("ratio to the real-data floor")
    other = ax.twinx() if left else ax
    for index, (title, points) in enumerate(right):
        lines += other.plot(*zip(*points), marker="s", markersize=3, linestyle="--", label=title,
                            color=f"C{(len(left) + index) % 10}")
    if right:
        other.set_ylabel("share / ratio to real")
    ax.legend(lines, [line.get_label() for line in lines], fontsize="x-small")
    return True
