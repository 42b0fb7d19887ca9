"""What a run leaves for people to look at: sample grids, 2-D scatter plots, curves.png."""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from ganzoo.atomic import atomic_path


MIN_TILE = 48  # pixels: the side a tile is enlarged to (at least) by default, readable without zooming
MAX_COLUMNS = 16  # tiles per row before a row wraps


def auto_scale(height: int, width: int, min_tile: int = MIN_TILE) -> int:
    """The whole-number enlargement that makes a ``height`` x ``width`` tile at least ``min_tile`` pixels on
    its longer side (1 for tiles that already are)."""
    return max(1, math.ceil(min_tile / max(height, width, 1)))


def grid_layout(n: int, rows: int | None) -> tuple[int, int]:
    """``(columns, tiles per block)`` for ``n`` samples: one block per class when ``rows`` is given (each
    block padded to whole rows so a class never shares a row with the next), else a near-square grid; never
    more than :data:`MAX_COLUMNS` tiles in a row."""
    if not rows:
        columns = min(MAX_COLUMNS, max(1, math.ceil(math.sqrt(n))))
        return columns, n
    per_class = math.ceil(n / rows)
    lines = math.ceil(per_class / MAX_COLUMNS)  # rows each class wraps onto
    columns = math.ceil(per_class / lines)
    return columns, per_class


def save_grid(samples: torch.Tensor, path: Path, *, rows: int | None = None, scale: int | None = None) -> Path:
    """A PNG grid of image samples in [-1, 1] (torchvision's), one block of rows per class when ``rows`` is
    given. Tiles are enlarged ``scale`` times by repeating pixels (nearest neighbour: no invented detail);
    the default makes them at least :data:`MIN_TILE` pixels."""
    from torchvision.utils import save_image

    samples = samples.float().cpu()
    scale = scale or auto_scale(*samples.shape[-2:])
    if scale > 1:
        samples = samples.repeat_interleave(scale, dim=-2).repeat_interleave(scale, dim=-1)
    columns, per_block = grid_layout(len(samples), rows)
    if rows and per_block % columns:  # blank tiles end each class's last row
        blank = torch.ones(columns - per_block % columns, *samples.shape[1:])
        samples = torch.cat([torch.cat([block, blank[: (-len(block)) % columns]]) for block in samples.split(per_block)])
    with atomic_path(path) as tmp:
        save_image(samples, tmp, nrow=columns, normalize=True, value_range=(-1, 1), pad_value=1.0,
                   padding=max(2, scale), format="png")
    return path


def save_scatter(samples: torch.Tensor, path: Path, *, reference: torch.Tensor | None = None, title: str = "") -> Path:
    """A scatter plot of 2-D samples over the real data (drawn first, behind), for the mixtures where a grid
    says nothing."""
    figure, axes = _figure(1)
    ax = axes[0]
    if reference is not None:
        ax.scatter(*reference.float().cpu().T, s=4, c="tab:blue", alpha=0.25, label="real data", zorder=1)
    ax.scatter(*samples.float().cpu().T, s=3, c="tab:red", alpha=0.6, label="generated", zorder=2)
    ax.set_aspect("equal")
    ax.set_title(title)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.legend(loc="upper right", markerscale=4)
    return _save_figure(figure, path)


def save_samples(samples: torch.Tensor, path: Path, *, rows: int | None = None,
                 reference: torch.Tensor | None = None, title: str = "", scale: int | None = None) -> Path:
    if samples.dim() == 2 and samples.shape[1] == 2:
        return save_scatter(samples, path, reference=reference, title=title)
    if samples.dim() == 2:  # other flat data: show it as one-row images
        samples = samples[:, None, None, :]
    return save_grid(samples, path, rows=rows, scale=scale)


def save_curves(rows: Iterable[dict[str, Any]], path: Path) -> Path | None:
    """``curves.png`` from metrics.jsonl rows; None (no file) before the first logged row."""
    figure = curves_figure(rows)
    return None if figure is None else _save_figure(figure, path)


def curves_figure(rows: Iterable[dict[str, Any]]) -> Any:
    """Losses, D's outputs and images per second over steps: D's drift toward 1/2 is what users watch; a
    fourth panel, the evaluation figures, when the run evaluates."""
    from ganzoo.evaluation.plot import draw_evaluation, quality_series

    every = list(rows)
    rows = [row for row in every if "d_loss" in row]
    if not rows:
        return None
    steps = [row["step"] for row in rows]
    figure, axes = _figure(4 if quality_series(every) else 3)
    for key, label in (("d_loss", "D loss"), ("g_loss", "G loss"), ("penalty", "penalty")):
        if key in rows[0]:
            axes[0].plot(steps, [row.get(key) for row in rows], label=label)
    for key, label in (("d_real", "D(x), real"), ("d_fake", "D(G(z)), generated")):
        axes[1].plot(steps, [row[key] for row in rows], label=label)
    probability = rows[0].get("d_output") == "probability"
    if probability:
        axes[1].axhline(0.5, color="grey", linestyle=":", linewidth=1, label="1/2: D cannot tell them apart")
    axes[2].plot(steps, [row.get("images_per_s") for row in rows], color="tab:green", label="images/s")
    _draw_augment(axes[2], rows, steps)
    axes[0].set(title="losses", ylabel="loss")
    axes[1].set(title="D outputs", ylabel="mean D output (probability)" if probability else "mean critic score")
    axes[2].set(title="throughput", ylabel="real images per second")
    axes[2].set_ylim(bottom=0)
    for ax in axes[:3]:
        ax.set_xlabel("step")
        ax.legend(fontsize="small")
    if len(axes) > 3 and not draw_evaluation(axes[3], every):
        axes[3].axis("off")
    return figure


def _draw_augment(ax: Any, rows: list[dict[str, Any]], steps: list[int]) -> None:
    """An adaptive augmentation's figures (ADA's p) on a second axis of the throughput panel."""
    keys = [key for key in rows[-1] if key.startswith("augment_")]
    if not keys:
        return
    twin = ax.twinx()
    for key in keys:
        twin.plot(steps, [row.get(key) for row in rows], color="tab:purple", label=key.removeprefix("augment_"))
    twin.set(ylabel="augmentation")
    twin.legend(fontsize="small", loc="upper right")


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
