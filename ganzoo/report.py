"""``report.html``: one self-contained page that shows a run to someone who has only that file.

Everything is inlined (images as ``data:`` URIs, the style in the page), so it opens offline, from an
e-mail or a shared folder, and loads nothing from the network. It shows the recipe, the sample grids over
training as a timeline and as an animated GIF, the curves, the evaluation figures beside their real-data
floors, and the worst class when a per-class metric names one. It reads only what the run folder holds
(recipe.toml, metrics.jsonl, samples/, curves.png, quality.png), so it works on a run that is still going or
was interrupted, and needs no torch.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ganzoo.__about__ import __version__
from ganzoo.errors import GanzooError
from ganzoo.metrics_log import MetricsLog
from ganzoo.run_folder import RunFolder

TIMELINE_MAX = 24  # grids shown in the timeline (evenly chosen, first and last always)
GIF_MAX = 60  # frames of the animation
GIF_MS = 600  # per frame; the last one stays longer

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; }
.lead { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5em 0; } td, th { border: 1px solid #ddd; padding: 0.25em 0.6em; }
th { background: #f4f4f4; text-align: left; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.9em; }
.timeline { display: flex; gap: 0.8em; overflow-x: auto; padding-bottom: 0.5em; }
.timeline figure { margin: 0; text-align: center; flex: none; }
.timeline img { height: 12em; }
.pair { display: flex; flex-wrap: wrap; gap: 2em; } .pair figure { margin: 0; }
figcaption { color: #555; font-size: 0.9em; margin: 0.3em 0; }
img { image-rendering: pixelated; max-width: 100%; }
.worst { background: #fff3cd; border: 1px solid #e0c36c; padding: 0.5em 0.8em; }
.broken { outline: 3px solid #c00; }
.note { color: #666; font-size: 0.9em; }
"""

# marks an image that does not decode, so a damaged report says so instead of showing a blank space
SCRIPT = """
window.addEventListener("load", function () {
  var broken = 0;
  document.querySelectorAll("img").forEach(function (img) {
    if (!img.complete || img.naturalWidth === 0) { img.classList.add("broken"); broken += 1; }
  });
  document.body.dataset.images = document.images.length;
  document.body.dataset.broken = broken;
  if (broken) {
    var note = document.createElement("p");
    note.className = "worst";
    note.textContent = broken + " image(s) in this report could not be shown.";
    document.body.insertBefore(note, document.body.firstChild);
  }
});
"""


# ---------------------------------------------------------------- reading the run folder
GRID_PIXELS_MAX = 64_000_000  # a sample grid larger than this is not one ganzoo wrote (a decompression bomb)


def own_file(path: Path) -> Path | None:
    """``path`` when the run folder holds it as a regular file, None when absent. A symbolic link is
    refused: the page is made to be shared, and following a link would inline a file from elsewhere."""
    if path.is_symlink():
        raise GanzooError(f"{path}: is a symbolic link; a report inlines only the run folder's own files: "
                          "replace the link by the file or remove it")
    if path.exists() and not path.is_file():
        raise GanzooError(f"{path}: is not a file; ganzoo writes a file there")
    return path if path.exists() else None


def read_rows(run_dir: Path) -> list[dict[str, Any]]:
    """metrics.jsonl's whole rows (a line cut short by a crash, not UTF-8 or without an integer step is left
    out: the rest still reports)."""
    path = own_file(RunFolder(run_dir).metrics)
    return [] if path is None else MetricsLog(path).rows()


def sample_grids(run_dir: Path) -> list[tuple[int, Path]]:
    """``(step, path)`` of every sample grid, by step; each one checked to be a PNG image of a sane size
    (one line naming the file otherwise)."""
    folder = RunFolder(run_dir)
    if folder.samples.is_symlink():
        own_file(folder.samples)  # raises: a link to another folder is refused
    grids = [(step, path) for step, path in folder.sample_grids() if own_file(path) is not None]
    for _, path in grids:
        check_png(path)
    return grids


def check_png(path: Path) -> None:
    """A PNG that Pillow reads, within :data:`GRID_PIXELS_MAX` pixels, checked before it is decoded."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            if image.format != "PNG":
                raise GanzooError(f"{path}: is {image.format}, not a PNG image; ganzoo writes PNG grids there")
            if image.width * image.height > GRID_PIXELS_MAX:
                raise GanzooError(f"{path}: {image.width}x{image.height} pixels; a sample grid has at most "
                                  f"{GRID_PIXELS_MAX:,}: remove the file")
            image.verify()
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError, Image.DecompressionBombError) as err:
        raise GanzooError(f"{path}: not a readable PNG image ({err or type(err).__name__}); "
                          "remove or replace it") from None


def evaluation(rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, tuple[int, float | None, float | None]]]:
    """``{metric: {figure: (step, last value, first value)}}`` from the ``"metric/figure"`` keys."""
    out: dict[str, dict[str, tuple[int, float | None, float | None]]] = {}
    for row in rows:
        for key, value in row.items():
            metric, sep, figure = key.partition("/")
            if not sep or isinstance(value, bool) or not (value is None or isinstance(value, (int, float))):
                continue
            first = out.get(metric, {}).get(figure, (0, None, value))[2]
            out.setdefault(metric, {})[figure] = (int(row.get("step", 0)), value, first)
    return out


def floor_key(figure: str, figures: Iterable[str]) -> str | None:
    """The real-data floor that goes with ``figure``: ``fd`` -> ``fd_floor``, ``diversity_min`` ->
    ``diversity_floor_min``; None when the metric gives none."""
    names = set(figures)
    if "floor" in figure:
        return None
    for candidate in (f"{figure}_floor", re.sub(r"_(min|max|mean)$", r"_floor_\1", figure)):
        if candidate != figure and candidate in names:
            return candidate
    return None


def worst_classes(figures: Mapping[str, Mapping[str, tuple[int, float | None, float | None]]]) -> list[str]:
    """One line per ``*worst_class`` figure: the class an average over classes would hide."""
    lines = []
    for metric, values in figures.items():
        for figure, (step, value, _) in values.items():
            if figure.endswith("worst_class") and value is not None and math.isfinite(value):
                what = figure.removesuffix("worst_class").rstrip("_")
                lines.append(f"worst class by {metric}{' ' + what if what else ''}: class {int(value)} (step {step})")
    return lines


# ---------------------------------------------------------------- pictures
def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def animation(paths: list[Path]) -> bytes | None:
    """The grids as one looping GIF (Pillow), frames padded to a common size; None without grids."""
    if not paths:
        return None
    from PIL import Image

    chosen = _spread(paths, GIF_MAX)
    frames = [Image.open(path).convert("RGB") for path in chosen]
    width, height = max(f.width for f in frames), max(f.height for f in frames)
    padded = []
    for frame in frames:
        canvas = Image.new("RGB", (width, height), "white")
        canvas.paste(frame, (0, 0))
        padded.append(canvas.convert("P", palette=Image.Palette.ADAPTIVE, colors=255))
    durations = [GIF_MS] * (len(padded) - 1) + [GIF_MS * 4]
    buffer = io.BytesIO()
    padded[0].save(buffer, format="GIF", save_all=True, append_images=padded[1:], duration=durations, loop=0)
    return buffer.getvalue()


def _spread(items: list[Any], most: int) -> list[Any]:
    """At most ``most`` items, evenly spread, the first and the last always among them."""
    if len(items) <= most:
        return list(items)
    picks = sorted({round(i * (len(items) - 1) / (most - 1)) for i in range(most)})
    return [items[i] for i in picks]


def curves_png(run_dir: Path, rows: list[dict[str, Any]]) -> bytes | None:
    """curves.png as the run left it, or drawn from metrics.jsonl when it is missing (an interrupted run)."""
    path = own_file(RunFolder(run_dir).curves)
    if path is not None:
        check_png(path)
        return path.read_bytes()
    rows = _plottable(rows)
    if not any("d_loss" in row for row in rows):
        return None
    from ganzoo.training.artifacts import curves_figure

    figure = curves_figure(rows)
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, dpi=90, format="png")
    import matplotlib.pyplot as plt

    plt.close(figure)
    return buffer.getvalue()


TRAINING_KEYS = ("d_loss", "d_real", "d_fake")


def _plottable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with only numbers to plot: a hand-edited log (a figure missing, a string value) still draws."""
    kept = []
    for row in rows:
        clean = {key: value for key, value in row.items() if key == "d_output" or value is None
                 or (isinstance(value, (int, float)) and not isinstance(value, bool))}
        if "d_loss" in row and not all(isinstance(clean.get(key), (int, float)) for key in TRAINING_KEYS):
            clean.pop("d_loss", None)  # not a whole training row: left out of the curves
        kept.append(clean)
    return kept


# ---------------------------------------------------------------- the page
def _img(data: bytes, mime: str, alt: str, **attrs: str) -> str:
    extra = "".join(f' {k}="{html.escape(v)}"' for k, v in attrs.items())
    return f'<img src="{data_uri(data, mime)}" alt="{html.escape(alt)}"{extra}>'


def _number(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, (int, float)):  # a hand-edited log: shown as it is
        return str(value)
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _summary(recipe: Mapping[str, Any], rows: list[dict[str, Any]]) -> str:
    train = [row for row in rows if "d_loss" in row]
    facts = []
    for label, section in (("data", "data"), ("generator", "generator"), ("discriminator", "discriminator"),
                           ("loss", "loss")):
        table = recipe.get(section)
        if isinstance(table, Mapping) and "name" in table:
            facts.append((label, str(table["name"])))
    train_section = recipe.get("train")
    steps = train_section.get("steps") if isinstance(train_section, Mapping) else None
    if train:
        last = train[-1]
        facts.append(("steps", f"{last['step']:,} of {steps:,}" if type(steps) is int else f"{last['step']:,}"))
        for key, label in (("d_loss", "D loss"), ("g_loss", "G loss"), ("d_real", "D(x)"), ("d_fake", "D(G(z))")):
            if key in last:
                facts.append((f"{label} (last logged)", _number(last[key])))
        speeds = sorted(row["images_per_s"] for row in train if isinstance(row.get("images_per_s"), (int, float)))
        if speeds:
            facts.append(("images/s (median)", _number(speeds[len(speeds) // 2])))
        if isinstance(last.get("wall_s"), (int, float)):
            facts.append(("training time", f"{last['wall_s']:.0f} s"))
    else:
        facts.append(("steps", "nothing logged yet"))
    cells = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in facts)
    return f"<table>{cells}</table>"


def _evaluation_section(rows: list[dict[str, Any]]) -> str:
    figures = evaluation(rows)
    if not figures:
        return ('<p class="note">No evaluation figures in metrics.jsonl: set <code>[eval] every</code> in the '
                "recipe to evaluate during training, or run <code>ganzoo eval RUN_DIR</code>.</p>")
    parts = [f'<p class="worst">{html.escape(line)}</p>' for line in worst_classes(figures)]
    body = []
    for metric, values in sorted(figures.items()):
        for figure, (step, value, first) in values.items():
            if "floor" in figure or figure.endswith("worst_class"):
                continue
            floor = floor_key(figure, values)
            floor_value = values[floor][1] if floor else None
            ratio = (value / floor_value if value is not None and floor_value not in (None, 0) else None)
            body.append(
                f"<tr><td>{html.escape(metric)}</td><td>{html.escape(figure)}</td>"
                f'<td class="num">{_number(value)}</td><td class="num">{_number(floor_value) if floor else ""}</td>'
                f'<td class="num">{_number(ratio) + "x" if ratio is not None else ""}</td>'
                f'<td class="num">{_number(first)}</td><td class="num">{step:,}</td></tr>'
            )
    parts.append("<table><tr><th>metric</th><th>figure</th><th>last</th><th>real-data floor</th>"
                 "<th>last / floor</th><th>first</th><th>at step</th></tr>" + "".join(body) + "</table>")
    return "\n".join(parts)


def _grids_section(grids: list[tuple[int, Path]]) -> str:
    if not grids:
        return '<p class="note">No sample grids yet (samples/ is empty).</p>'
    last_step, last_path = grids[-1]
    pair = [f"<figure><figcaption>last grid (step {last_step:,})</figcaption>"
            f"{_img(last_path.read_bytes(), 'image/png', f'samples at step {last_step}')}</figure>"]
    gif = animation([path for _, path in grids])
    if gif is not None and len(grids) > 1:
        pair.append(f"<figure><figcaption>over training, animated ({len(grids)} grids)</figcaption>"
                    f"{_img(gif, 'image/gif', 'the grids over training')}</figure>")
    parts = [f'<div class="pair">{"".join(pair)}</div>']
    figures = "".join(
        f"<figure>{_img(path.read_bytes(), 'image/png', f'samples at step {step}')}"
        f"<figcaption>step {step:,}</figcaption></figure>"
        for step, path in _spread(grids, TIMELINE_MAX)
    )
    parts += ["<h3>Timeline</h3>", f'<div class="timeline">{figures}</div>']
    return "\n".join(parts)


def build_report(run_dir: str | Path) -> str:
    """The HTML text of a run's report."""
    run_dir = Path(run_dir)
    recipe_path = own_file(RunFolder(run_dir).recipe)
    if recipe_path is None:
        raise GanzooError(f"{run_dir}: not a ganzoo run directory (no {RunFolder(run_dir).recipe.name})")
    try:
        recipe_text = recipe_path.read_text(encoding="utf-8")
        recipe = tomllib.loads(recipe_text)
    except UnicodeDecodeError as err:
        raise GanzooError(f"{recipe_path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    except tomllib.TOMLDecodeError as err:
        raise GanzooError(f"{recipe_path}: not valid TOML: {err}") from None
    rows = read_rows(run_dir)
    name = str(recipe.get("name") or run_dir.name)
    curves = curves_png(run_dir, rows)
    quality = own_file(RunFolder(run_dir).quality)
    if quality is not None:
        check_png(quality)
    sections = [
        f"<h1>{html.escape(name)}</h1>",
        f'<p class="lead">{html.escape(str(recipe.get("description") or ""))}</p>',
        f'<p class="note">Run folder <code>{html.escape(str(run_dir))}</code>; report written '
        f"{dt.datetime.now():%Y-%m-%d %H:%M} by ganzoo {__version__}.</p>",
        "<h2>Summary</h2>", _summary(recipe, rows),
        "<h2>Samples</h2>", _grids_section(sample_grids(run_dir)),
        "<h2>Curves</h2>",
        _img(curves, "image/png", "losses, D outputs and images per second over steps") if curves
        else '<p class="note">No curves yet (nothing logged).</p>',
        "<h2>Evaluation</h2>", _evaluation_section(rows),
    ]
    if quality is not None:
        sections.append(_img(quality.read_bytes(), "image/png", "evaluation figures over training"))
    sections += ["<h2>Recipe (as resolved)</h2>", f"<pre>{html.escape(recipe_text)}</pre>"]
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{html.escape(name)} - "
        f"ganzoo report</title><style>{STYLE}</style></head>\n<body>\n" + "\n".join(sections)
        + f"\n<script>{SCRIPT}</script>\n</body></html>\n"
    )


def write_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write ``report.html`` (default: in the run folder, atomically); returns its path."""
    from ganzoo.atomic import write_text_atomic

    text = build_report(run_dir)
    path = Path(out) if out is not None else RunFolder(run_dir).report
    write_text_atomic(path, text)
    return path
