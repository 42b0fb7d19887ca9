"""Checkpoints without pickle: nested state (models, optimisers, RNG) as one safetensors file.

Tensors go in the file; the structure around them (dicts with int keys, lists, numbers) goes, as JSON,
into its metadata. Any program with safetensors can read a ganzoo checkpoint, and loading one never runs
code. Files are written atomically, so a crash while saving keeps the previous checkpoint intact.
In a multi-process run each process also writes ``step-N.rankR.safetensors``: its own data position and
random streams, which the main file (the models, optimisers and rank 0's streams) does not hold.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from ganzoo.atomic import write_atomic
from ganzoo.errors import GanzooError

STRUCTURE_KEY = "ganzoo.checkpoint"
NAME = re.compile(r"step-(\d+)\.safetensors$")


def flatten(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """Replace each tensor in ``obj`` by a reference into ``tensors``; return the JSON-able skeleton."""
    if isinstance(obj, torch.Tensor):
        key = f"t{len(tensors)}"
        tensors[key] = obj.detach().cpu().contiguous()
        return {"__tensor__": key}
    if isinstance(obj, dict):
        return {"__dict__": [[k, flatten(v, tensors)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return {"__seq__": [flatten(v, tensors) for v in obj], "tuple": isinstance(obj, tuple)}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot store {type(obj).__name__} in a checkpoint")


def unflatten(skeleton: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(skeleton, dict):
        if "__tensor__" in skeleton:
            return tensors[skeleton["__tensor__"]]
        if "__dict__" in skeleton:
            return {k: unflatten(v, tensors) for k, v in skeleton["__dict__"]}
        if "__seq__" in skeleton:
            items = [unflatten(v, tensors) for v in skeleton["__seq__"]]
            return tuple(items) if skeleton["tuple"] else items
    return skeleton


def save_checkpoint(path: Path, state: dict[str, Any]) -> Path:
    tensors: dict[str, torch.Tensor] = {}
    skeleton = flatten(state, tensors)
    metadata = {STRUCTURE_KEY: json.dumps(skeleton)}
    return write_atomic(path, lambda tmp: save_file(tensors, str(tmp), metadata=metadata))


def load_checkpoint(path: Path) -> dict[str, Any]:
    try:
        with safe_open(str(path), framework="pt") as handle:
            skeleton = json.loads((handle.metadata() or {})[STRUCTURE_KEY])
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    except (KeyError, OSError, ValueError, json.JSONDecodeError, SafetensorError) as err:
        raise GanzooError(f"{path}: not a ganzoo checkpoint ({err})") from None
    return unflatten(skeleton, tensors)


def checkpoint_path(folder: Path, step: int) -> Path:
    return folder / f"step-{step:06d}.safetensors"


def checkpoints(folder: Path) -> list[Path]:
    """The checkpoints in ``folder``, newest first (each process's part files left out)."""
    found = sorted((int(m.group(1)), p) for p in folder.glob("step-*.safetensors") if (m := NAME.search(p.name)))
    return [path for _, path in reversed(found)]


def latest_checkpoint(folder: Path) -> Path | None:
    found = checkpoints(folder)
    return found[0] if found else None


def prune_checkpoints(folder: Path, keep: int = 2) -> None:
    """Keep the newest ``keep`` checkpoints: enough to survive one corrupt write, few enough for disk."""
    found = sorted((int(m.group(1)), p) for p in folder.glob("step-*.safetensors") if (m := NAME.search(p.name)))
    for _, path in found[:-keep]:
        path.unlink(missing_ok=True)
        for part in folder.glob(f"{path.stem}.rank*.safetensors"):  # each process's part (multi-process runs)
            part.unlink(missing_ok=True)
