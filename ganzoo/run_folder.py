"""The run folder's layout: the one place that knows the names of the files a run leaves.

::

    RUN/recipe.toml                       the resolved recipe (every default written out)
    RUN/metrics.jsonl                     one JSON object per logged step (and evaluation figures)
    RUN/curves.png, RUN/quality.png       losses and D outputs; evaluation figures over steps
    RUN/samples/step-NNNNNN.png           sample grids from the fixed noise
    RUN/checkpoints/step-NNNNNN.safetensors           resumable state (two kept)
    RUN/checkpoints/step-NNNNNN.rankR.safetensors     each further process's part (multi-process runs)
    RUN/generator.safetensors, RUN/generator-ema.safetensors, RUN/discriminator.safetensors   weights
    RUN/generator-best.safetensors        the generator of the best evaluation (eval.keep_best)
    RUN/report.html                       ganzoo report's page
    RUN/trackers.json, RUN/wandb/, RUN/mlflow/, RUN/aim/   experiment trackers' run ids and files
    RUN/.ganzoo.lock                      held while a run uses the folder

The trainer, the API, the CLI, evaluation and weight loading all ask this module for a path instead of
spelling one out, so a change of layout is a change here. Torch-free: the CLI reads it before torch loads.
"""

from __future__ import annotations

import re
from pathlib import Path

import attrs

CHECKPOINT = re.compile(r"step-(\d+)\.safetensors$")
SAMPLE_GRID = re.compile(r"step-(\d+)\.png")
#: weights files by role, the EMA generator first: it is the one to sample from when there is one
WEIGHT_ROLES = ("generator-ema", "generator", "discriminator")


@attrs.frozen
class RunFolder:
    """Paths inside one run folder; nothing is created until :meth:`prepare`."""

    path: Path = attrs.field(converter=Path)

    @property
    def recipe(self) -> Path:
        return self.path / "recipe.toml"

    @property
    def metrics(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def curves(self) -> Path:
        return self.path / "curves.png"

    @property
    def quality(self) -> Path:
        return self.path / "quality.png"

    @property
    def samples(self) -> Path:
        return self.path / "samples"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def best(self) -> Path:
        return weights_file(self.path, "generator-best")

    @property
    def report(self) -> Path:
        return self.path / "report.html"

    @property
    def lock(self) -> Path:
        return self.path / ".ganzoo.lock"

    @property
    def tracker_ids(self) -> Path:
        return self.path / "trackers.json"

    def tracker_files(self, tracker: str) -> Path:
        """The folder an experiment tracker (``wandb``, ``mlflow``, ``aim``) writes its own files into."""
        return self.path / tracker

    def tracker_store(self, tracker: str) -> Path:
        """A tracker's own database file, inside its folder (MLflow's SQLite store)."""
        return self.tracker_files(tracker) / f"{tracker}.db"

    def sample_grid(self, step: int) -> Path:
        return self.samples / f"step-{step:06d}.png"

    def sample_grids(self) -> list[tuple[int, Path]]:
        """``(step, path)`` of every sample grid written, by step."""
        found = ((SAMPLE_GRID.fullmatch(path.name), path) for path in self.samples.glob("step-*.png"))
        return sorted((int(match.group(1)), path) for match, path in found if match)

    def weights(self, role: str) -> Path:
        return weights_file(self.path, role)

    def checkpoint(self, step: int) -> Path:
        return checkpoint_path(self.checkpoints, step)

    def holds_run(self) -> bool:
        """Whether a run was started here already (a second one would mix its files with the first's)."""
        return any(p.exists() for p in (self.recipe, self.metrics, self.checkpoints))

    def prepare(self) -> None:
        self.samples.mkdir(parents=True, exist_ok=True)
        self.checkpoints.mkdir(parents=True, exist_ok=True)


def weights_file(folder: Path, role: str) -> Path:
    """``FOLDER/<role>.safetensors``: a run folder's weights of ``generator``, ``generator-ema`` or ``discriminator``."""
    return Path(folder) / f"{role}.safetensors"


def checkpoint_path(folder: Path, step: int) -> Path:
    return Path(folder) / f"step-{step:06d}.safetensors"


def rank_part(path: Path, rank: int) -> Path:
    """The part of checkpoint ``path`` that process ``rank`` writes (its data position and random streams)."""
    return path.with_suffix(f".rank{rank}.safetensors")


def checkpoints(folder: Path) -> list[Path]:
    """The checkpoints in ``folder``, newest first (each process's part files left out)."""
    return [path for _, path in reversed(_numbered(folder))]


def latest_checkpoint(folder: Path) -> Path | None:
    found = checkpoints(folder)
    return found[0] if found else None


def prune_checkpoints(folder: Path, keep: int = 2) -> None:
    """Keep the newest ``keep`` checkpoints: enough to survive one corrupt write, few enough for disk."""
    for _, path in _numbered(folder)[:-keep]:
        path.unlink(missing_ok=True)
        for part in Path(folder).glob(f"{path.stem}.rank*.safetensors"):  # each process's part
            part.unlink(missing_ok=True)


def _numbered(folder: Path) -> list[tuple[int, Path]]:
    found = Path(folder).glob("step-*.safetensors")
    return sorted((int(m.group(1)), p) for p in found if (m := CHECKPOINT.search(p.name)))
