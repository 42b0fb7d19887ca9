"""Experiment trackers (TensorBoard, Weights & Biases, MLflow, Aim) through accelerate's tracker classes.

A recipe's ``train.log_with = ["tensorboard"]`` sends what metrics.jsonl holds (losses, D's outputs, images/s,
every evaluation figure) to each tracker as scalars, each sample grid as an image and the resolved recipe
as the run's configuration. Everything goes into the run folder (``RUN/tensorboard/``, ``RUN/aim/`` (an Aim
repository), ``RUN/mlflow/`` (a SQLite store, ``mlflow.db``, and the grids as artifacts), ``RUN/wandb/``, which
``WANDB_MODE=offline`` keeps offline), so ``tensorboard --logdir runs`` shows every run side by side.

accelerate's trackers are used as they are, only on the main process; the Accelerator itself is not asked
to own them (its ``log_with`` is fixed at construction and the trainer's accelerator is built elsewhere).

A resumed run appends to the same run: TensorBoard is told to purge what was logged after the checkpoint
(``purge_step``, as metrics.jsonl is truncated), W&B and MLflow are reopened by the run id kept in
``RUN/trackers.json``, Aim by its run hash. Those three keep what they had past the checkpoint: the steps
logged again after a resume appear twice there (the later value is the one metrics.jsonl keeps).

Whether a tracker is installed is checked without importing it (or torch), so ``ganzoo validate`` can say
so in one line.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ganzoo.errors import GanzooError
from ganzoo.run_folder import RunFolder

# tracker name -> (modules any of which makes it work, what to pip install)
TRACKERS: dict[str, tuple[tuple[str, ...], str]] = {
    "tensorboard": (("tensorboard", "tensorboardX"), "tensorboard"),
    "wandb": (("wandb",), "wandb"),
    "mlflow": (("mlflow",), "mlflow"),
    "aim": (("aim",), "aim"),
}
# metrics.jsonl fields that are bookkeeping, not figures
NOT_FIGURES = frozenset({"step", "processes", "global_batch", "wall_s", "d_output"})


def missing_tracker(names: Iterable[str]) -> tuple[str, str] | None:
    """``(name, pip command)`` of the first tracker in ``names`` that is not installed, else None."""
    for name in names:
        modules, package = TRACKERS[name]
        if not any(_installed(module) for module in modules):
            return name, f"pip install {package}"
    return None


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def scalars(row: Mapping[str, Any]) -> dict[str, float]:
    """A metrics.jsonl row's figures, named for a tracker: ``train/d_loss``, ``eval/modes/high_quality``."""
    out = {}
    for key, value in row.items():
        if key in NOT_FIGURES or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue  # None: a non-finite evaluation figure
        out[f"eval/{key}" if "/" in key else f"train/{key}"] = float(value)
    return out


def flat_config(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested recipe table as the flat ``{"train.steps": 1500}`` map trackers take as hyperparameters."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flat_config(value, f"{name}."))
        elif isinstance(value, (bool, int, float, str)):
            out[name] = value
        else:  # lists: trackers take scalars only
            out[name] = json.dumps(value)
    return out


def for_trainer(train: Any, run_dir: Path | None, cards: Mapping[str, Any], main_process: bool) -> list[Tracking]:
    """The observer a trainer adds for ``train.log_with`` (none when it names no tracker). The run's config
    is the recipe the generator's card carries, or the trainer's own options without one."""
    if not train.log_with:
        return []
    from ganzoo.options import options_to_dict

    recipe = getattr(cards.get("generator"), "recipe", None)
    config = recipe or {"train": options_to_dict(train)}
    return [Tracking(train.log_with, run_dir, name=str(config.get("name") or "ganzoo"), config=config,
                     main_process=main_process)]


class Tracking:
    """The run's trackers, as a trainer observer (:class:`ganzoo.training.view.Observer`); every method is a
    no-op when none is asked for or on processes other than the main.

    ``on_start(step)`` opens them (``step`` > 0: a resumed run), ``on_row`` sends a metrics row,
    ``on_samples`` a grid, ``on_end`` flushes and closes. ``config`` (the resolved recipe) is stored when a run
    starts at step 0.
    """

    def __init__(self, names: Iterable[str], run_dir: Path | None, *, name: str = "ganzoo",
                 config: Mapping[str, Any] | None = None, main_process: bool = True) -> None:
        self.names = tuple(dict.fromkeys(names))
        missing = missing_tracker(self.names)
        if missing:
            raise GanzooError(f"train.log_with: {missing[0]!r} is not installed; {missing[1]}")
        if self.names and run_dir is None:
            raise GanzooError("train.log_with needs a run directory (run_dir=...) for the trackers to write into")
        self.run_dir, self.name, self.config = run_dir, name, dict(config or {})
        self.enabled = bool(self.names) and main_process
        self.trackers: list[Any] = []

    def on_start(self, step: int = 0) -> None:
        if not self.enabled or self.trackers:
            return
        assert self.run_dir is not None
        ids = self._ids()
        for tracker_name in self.names:
            tracker = _OPENERS[tracker_name](self.run_dir, self.name, step, ids)
            tracker.start()
            self.trackers.append(tracker)
            ids.update(_run_id(tracker_name, tracker))
            if step == 0 and self.config:
                tracker.store_init_configuration(flat_config(self.config))
        RunFolder(self.run_dir).tracker_ids.write_text(json.dumps(ids, indent=1) + "\n", encoding="utf-8")

    def on_row(self, row: Mapping[str, Any]) -> None:
        """Send a metrics.jsonl row (its ``step`` is the tracker's step)."""
        figures = scalars(row)
        if not self.trackers or not figures:
            return
        for tracker in self.trackers:
            tracker.log(figures, step=int(row["step"]))

    def on_samples(self, step: int, path: Path, samples: Any = None, key: str = "samples") -> None:
        """Send a saved PNG (a sample grid or scatter plot, as people see it) as an image at ``step``."""
        if not self.trackers:
            return
        import numpy as np
        from PIL import Image

        with Image.open(path) as picture:
            pixels = np.asarray(picture.convert("RGB"))
        for tracker in self.trackers:
            _IMAGE_WRITERS[tracker.name](tracker, key, pixels, step, path)

    def on_end(self) -> None:
        for tracker in self.trackers:
            tracker.finish()
        self.trackers = []

    def _ids(self) -> dict[str, str]:
        path = RunFolder(self.run_dir).tracker_ids if self.run_dir else None
        if path is None or not path.is_file():
            return {}
        try:
            return {str(k): str(v) for k, v in json.loads(path.read_text(encoding="utf-8")).items()}
        except (ValueError, AttributeError):
            return {}


# ---------------------------------------------------------------- one opener and image writer per tracker
def _tensorboard(run_dir: Path, name: str, step: int, ids: dict[str, str]) -> Any:
    from accelerate.tracking import TensorBoardTracker

    # a resumed run rewrites the steps after its checkpoint: TensorBoard drops what was logged past it
    return TensorBoardTracker("tensorboard", run_dir, **({"purge_step": step + 1} if step else {}))


def _wandb(run_dir: Path, name: str, step: int, ids: dict[str, str]) -> Any:
    from accelerate.tracking import WandBTracker

    RunFolder(run_dir).tracker_files("wandb").mkdir(exist_ok=True)
    resume = {"id": ids["wandb"], "resume": "allow"} if "wandb" in ids else {}
    return WandBTracker(name, dir=str(RunFolder(run_dir).tracker_files("wandb")), name=run_dir.name, **resume)


def _mlflow(run_dir: Path, name: str, step: int, ids: dict[str, str]) -> Any:
    """MLflow's store is a SQLite file in the run folder (its file store is in maintenance mode and refuses to
    start), artifacts beside it, unless the user's ``MLFLOW_TRACKING_URI`` names a server. The URI is set for
    this run only, never left in the environment for the next run of the process."""
    import os

    import mlflow
    from accelerate.tracking import MLflowTracker

    folder = RunFolder(run_dir).tracker_files("mlflow").resolve()
    folder.mkdir(exist_ok=True)
    store = RunFolder(run_dir).tracker_store("mlflow")
    mlflow.set_tracking_uri(os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{store.resolve()}")
    return MLflowTracker(name, logging_dir=str(folder / "artifacts"), run_id=ids.get("mlflow"), run_name=run_dir.name)


def _aim(run_dir: Path, name: str, step: int, ids: dict[str, str]) -> Any:
    from accelerate.tracking import AimTracker

    resume = {"run_hash": ids["aim"]} if "aim" in ids else {}
    return AimTracker(run_dir.name, str(RunFolder(run_dir).tracker_files("aim")), **resume)


_OPENERS = {"tensorboard": _tensorboard, "wandb": _wandb, "mlflow": _mlflow, "aim": _aim}


def _run_id(tracker_name: str, tracker: Any) -> dict[str, str]:
    """What reopens the same run on resume (TensorBoard needs nothing: its folder is the run)."""
    if tracker_name == "wandb":
        return {"wandb": tracker.run.id}
    if tracker_name == "mlflow":
        return {"mlflow": tracker.active_run.info.run_id}
    if tracker_name == "aim":
        return {"aim": tracker.writer.hash}
    return {}


def _tensorboard_image(tracker: Any, key: str, pixels: Any, step: int, path: Path) -> None:
    tracker.log_images({key: pixels[None]}, step=step, dataformats="NHWC")
    tracker.writer.flush()  # seen at once by a TensorBoard watching the run


_IMAGE_WRITERS = {
    "tensorboard": _tensorboard_image,
    "wandb": lambda t, key, pixels, step, path: t.log_images({key: [pixels]}, step=step),
    "aim": lambda t, key, pixels, step, path: t.log_images({key: pixels}, step=step),
    "mlflow": lambda t, key, pixels, step, path: t.log_artifact(str(path), artifact_path=key),
}
