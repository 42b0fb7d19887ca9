"""What a run leaves for people to look at: sample grids, 2-D scatter plots, metrics.jsonl, curves.png."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from ganzoo.atomic import atomic_path, write_text_atomic


def save_grid(samples: torch.Tensor, path: Path, *, rows: int | None = None) -> Path:
    """A PNG grid of image samples in [-1, 1] (torchvision's), one row per class when ``rows`` is given."""
    from torchvision.utils import save_image

    per_row = math.ceil(len(samples) / rows) if rows else max(1, int(math.sqrt(len(samples))))
    with atomic_path(path) as tmp:
        save_image(samples.float().cpu(), tmp, nrow=per_row, normalize=True, value_range=(-1, 1), pad_value=1.0,
                   format="png")
    return path


def save_scatter(samples: torch.Tensor, path: Path, *, reference: torch.Tensor | None = None, title: str = "") -> Path:
    """A scatter plot of 2-D samples over the real data, for the mixtures where a grid says nothing."""
    figure, axes = _figure(1)
    if reference is not None:
        axes[0].scatter(*reference.float().cpu().T, s=2, c="tab:blue", alpha=0.3, label="real")
    axes[0].scatter(*samples.float().cpu().T, s=2, c="tab:red", alpha=0.5, label="generated")
    axes[0].set_aspect("equal")
    axes[0].set_title(title)
    axes[0].legend(loc="upper right", markerscale=4)
    return _save_figure(figure, path)


def save_samples(samples: torch.Tensor, path: Path, *, rows: int | None = None,
                 reference: torch.Tensor | None = None, title: str = "") -> Path:
    if samples.dim() == 2 and samples.shape[1] == 2:
        return save_scatter(samples, path, reference=reference, title=title)
    if samples.dim() == 2:  # other flat data: show it as one-row images
        samples = samples[:, None, None, :]
    return save_grid(samples, path, rows=rows)


class MetricsLog:
    """``metrics.jsonl``: one JSON object per logged step, appended and flushed as training goes."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, row: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")

    def rows(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def truncate_after(self, step: int) -> None:
        """Drop rows past ``step``: a resumed run rewrites them, so the log never shows a step twice."""
        kept = [row for row in self.rows() if row.get("step", 0) <= step]
        write_text_atomic(self.path, "".join(json.dumps(row) + "\n" for row in kept))


def save_curves(rows: Iterable[dict[str, Any]], path: Path) -> Path | None:
    """Losses and D's outputs over steps: their drift toward 1/2 is what users watch."""
    from ganzoo.evaluation.plot import draw_evaluation, quality_series

    every = list(rows)
    rows = [row for row in every if "d_loss" in row]
    if not rows:
        return None
    steps = [row["step"] for row in rows]
    figure, axes = _figure(3 if quality_series(every) else 2)
    for key, label in (("d_loss", "D loss"), ("g_loss", "G loss"), ("penalty", "penalty")):
        if key in rows[0]:
            axes[0].plot(steps, [row[key] for row in rows], label=label)
    for key, label in (("d_real", "D(x)"), ("d_fake", "D(G(z))")):
        axes[1].plot(steps, [row[key] for row in rows], label=label)
    if rows[0].get("d_output") == "probability":
        axes[1].axhline(0.5, color="grey", linestyle=":", linewidth=1)
    axes[0].set_title("losses")
    axes[1].set_title("D outputs (" + str(rows[0].get("d_output", "")) + ")")
    for ax in axes[:2]:
        ax.set_xlabel("step")
        ax.legend()
    if len(axes) > 2 and not draw_evaluation(axes[2], every):
        axes[2].axis("off")
    return _save_figure(figure, path)


def _figure(columns: int):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, columns, figsize=(5 * columns, 4), squeeze=False)
    return figure, list(axes[0])


def _save_figure(figure: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=90, format="png")
    plt.close(figure)
    return path
