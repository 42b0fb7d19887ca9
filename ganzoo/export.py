"""A run folder as a folder a Hugging Face model repository holds as it is.

::

    DIR/generator.safetensors   the generator (the EMA one when the run kept it), self-describing
    DIR/README.md               the model card: YAML front matter, the recipe's story, figures beside floors
    DIR/recipe.toml             the resolved recipe the run trained from
    DIR/samples.png             the run's last sample grid (when it saved one)

People share models on the Hub as a repository of files with a model card; ``ganzoo sample user/name``
(:mod:`ganzoo.hub`) reads this very layout back. The folder is written beside ``DIR`` and renamed into place,
so an interrupted export leaves nothing half-written.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from ganzoo.__about__ import __version__
from ganzoo.errors import GanzooError
from ganzoo.hub import GENERATOR_FILE
from ganzoo.run_folder import RunFolder, weights_file

#: licence identifiers as the Hub's front matter spells them (mit, apache-2.0, cc-by-4.0, other, ...)
LICENSE = re.compile(r"^[a-z0-9][a-z0-9.+-]*$")
USAGE_ID = "USER/NAME"


@attrs.frozen
class Figures:
    """Evaluation figures found for the card: where they come from, the step, and ``{metric: {figure: v}}``."""

    source: str
    step: int | None
    metrics: dict[str, dict[str, float | None]]
    protocols: dict[str, dict[str, Any]] = attrs.field(factory=dict)


def export_run(run_dir: Path, out: Path, *, license: str = "mit", repo_id: str | None = None,
               eval_file: Path | None = None) -> Path:
    """Write ``out`` from ``run_dir``; returns ``out``. Refuses an ``out`` that holds anything."""
    from ganzoo.weights import read_weights

    run = RunFolder(run_dir)
    check_arguments(run, out, license, repo_id)
    weights = next((weights_file(run.path, r) for r in ("generator-ema", "generator")
                    if weights_file(run.path, r).is_file()), None)
    if weights is None:
        raise GanzooError(f"{run_dir}: no generator-ema.safetensors or generator.safetensors; is it a finished run?")
    _, card = read_weights(weights)  # validates the file before it is shared
    figures = read_figures(run, eval_file)
    grid = last_grid(run)
    text = model_card(card, weights.name, figures, grid is not None, license=license, repo_id=repo_id or USAGE_ID)
    write_folder(out, {GENERATOR_FILE: weights, "recipe.toml": run.recipe, "samples.png": grid}, text)
    return out


def check_arguments(run: RunFolder, out: Path, license: str, repo_id: str | None) -> None:
    from ganzoo.hub import parse_repo_id

    if not run.path.is_dir():
        raise GanzooError(f"{run.path}: no such run directory")
    if not run.recipe.is_file():
        raise GanzooError(f"{run.path}: no recipe.toml; is it a ganzoo run directory?")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise GanzooError(f"{out}: already exists and is not an empty folder; name a new folder")
    if not LICENSE.match(license):
        raise GanzooError(f"--license {license!r}: a Hub licence identifier in lower case (mit, apache-2.0, "
                          "cc-by-4.0, other, ...)")
    if repo_id is not None and (parse_repo_id(repo_id) is None or "@" in repo_id):
        raise GanzooError(f"--repo-id {repo_id!r}: expected USER/NAME, as the Hub spells repository ids")


def read_figures(run: RunFolder, eval_file: Path | None) -> Figures | None:
    """The figures of ``eval_file`` (``ganzoo eval --json``), else the last evaluation in metrics.jsonl."""
    if eval_file is not None:
        return figures_of_report(eval_file)
    if not run.metrics.is_file():
        return None
    last: dict[str, Any] | None = None
    for line in run.metrics.read_text().splitlines():
        row = json.loads(line) if line.strip() else {}
        if any("/" in key for key in row):
            last = row
    if last is None:
        return None
    metrics: dict[str, dict[str, float | None]] = {}
    for key, value in last.items():
        metric, _, figure = key.partition("/")
        if figure:
            metrics.setdefault(metric, {})[figure] = value
    return Figures(f"the run's own evaluation (metrics.jsonl, step {last.get('step')})", last.get("step"), metrics)


def figures_of_report(path: Path) -> Figures:
    try:
        report = json.loads(path.read_text())
        metrics = report["metrics"]
        if not isinstance(metrics, dict) or not all(isinstance(v, dict) for v in metrics.values()):
            raise TypeError("metrics is not a table of tables")
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise GanzooError(f"--eval {path}: not the JSON of `ganzoo eval --json` ({type(err).__name__}: {err})") \
            from None
    n, seed = report.get("n"), report.get("seed")
    return Figures(f"`ganzoo eval --json` ({path.name}; n={n}, seed={seed})", report.get("step"), metrics,
                   dict(report.get("protocols") or {}))


def last_grid(run: RunFolder) -> Path | None:
    grids = sorted(run.samples.glob("step-*.png")) if run.samples.is_dir() else []
    return grids[-1] if grids else None


def model_card(card: Any, weights_name: str, figures: Figures | None, has_grid: bool, *, license: str,
               repo_id: str) -> str:
    """README.md: front matter the Hub reads, then what the model is, how to sample it and how good it is."""
    recipe = card.recipe or {}
    name = str(recipe.get("name") or card.component or "generator")
    dataset = str((recipe.get("data") or {}).get("name") or "unknown data")
    image = len(card.shape) == 3
    tags = ["ganzoo", "gan", dataset] + (["image-generation"] if image else [])
    conditional = card.num_classes and not card.clustered  # clusters are the model's own business
    tags += ["class-conditional"] if conditional else []
    front = ["---", "library_name: ganzoo", f"license: {license}", "tags:", *(f"- {json.dumps(t)}" for t in tags)]
    if image and not conditional:
        front.append("pipeline_tag: unconditional-image-generation")
    front.append("---")
    kind = (f"conditional on {card.num_classes} classes" if conditional
            else f"unconditional, self-conditioned on {card.num_classes} clusters" if card.num_classes
            else "unconditional")
    ema = weights_name.startswith("generator-ema")
    which = ("the exponential moving average of the generator's weights (the run's generator-ema.safetensors)" if ema
             else "the generator's weights (the run kept no moving average)")
    lines = [
        *front, "", f"# {name}", "",
        *([str(recipe["description"]), ""] if recipe.get("description") else []),
        f"A GAN generator ({card.component}, {kind}, samples of shape {list(card.shape)}, latent size "
        f"{card.latent_dim}) trained on {dataset} for {card.step} steps by [ganzoo](https://pypi.org/project/pyganzoo/) "
        f"{card.version}.", "",
        "## Files", "",
        f"- `{GENERATOR_FILE}`: {which}; a self-describing safetensors file (its `ganzoo.*` metadata names the "
        "component, its options, the data's shape and classes, and the recipe).",
        "- `recipe.toml`: the resolved recipe the run trained from (`ganzoo run recipe.toml` trains it again).",
        *(["- `samples.png`: the run's last sample grid, from its fixed noise.", "", "![samples](samples.png)"]
          if has_grid else []), "",
        "## Sample", "", "```bash", "pip install pyganzoo",
        f"ganzoo sample {repo_id} -n 64 --out samples.png",
        *([f"ganzoo sample {repo_id} --class 3 -n 16 --out class3.png"] if conditional else []),
        "```", "", "```python", "import ganzoo", "",
        f'generator = ganzoo.load_generator("{repo_id}")  # or "{repo_id}@REVISION"',
        f'x, c = ganzoo.sample("{repo_id}", n=16)',
        "```", "",
        f"ganzoo fetches `{GENERATOR_FILE}` alone through huggingface_hub's cache (`HF_HUB_OFFLINE=1` works from "
        "the cache): no pickle is read and no code from the repository runs.", "",
        "## Evaluation", "", *evaluation_section(figures), "",
        "## License", "",
        f"The weights are shared under `{license}` (the `license` field above). The training data's own terms "
        f"apply to what was learnt from it ({dataset}).", "",
        f"<!-- written by ganzoo {__version__} (ganzoo export) -->", "",
    ]
    return "\n".join(lines)


def evaluation_section(figures: Figures | None) -> list[str]:
    """A table of figures, each beside its real-data floor (``X_floor``) when the metric gives one."""
    if figures is None or not figures.metrics:
        return ["Not evaluated: the run logged no evaluation. `ganzoo eval RUN_DIR --json > eval.json`, then "
                "`ganzoo export RUN_DIR DIR --eval eval.json`, puts the figures here."]
    rows = ["| metric | figure | value | floor (real data) |", "|---|---|---|---|"]
    for metric, values in figures.metrics.items():
        for figure, value in values.items():
            if figure.endswith("_floor"):
                continue
            floor = values.get(f"{figure}_floor")
            rows.append(f"| {metric} | {figure} | {_format(value)} | {_format(floor) if floor is not None else ''} |")
    notes = [f"- {metric}: " + "; ".join(f"{k} {v}" for k, v in protocol.items())
             for metric, protocol in figures.protocols.items()]
    return [f"From {figures.source}.", "", *rows, *(["", "Protocols:", "", *notes] if notes else [])]


def write_folder(out: Path, files: Mapping[str, Path | None], readme: str) -> None:
    """Copy ``files`` (target name -> source) and README.md into a temporary folder, then rename it to ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for target, source in files.items():
            if source is not None:
                shutil.copyfile(source, tmp / target)
        (tmp / "README.md").write_text(readme, encoding="utf-8")
        os.chmod(tmp, 0o777 & ~_umask())
        if out.is_dir():
            out.rmdir()  # empty (checked): the rename needs the name free
        os.replace(tmp, out)
    except OSError as err:
        raise GanzooError(f"{out}: cannot write: {err.strerror or err}") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _format(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if isinstance(value, (int, float)) and float(value).is_integer() and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.4g}" if isinstance(value, (int, float)) else str(value)
