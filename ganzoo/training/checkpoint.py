"""Checkpoints without pickle: nested state (models, optimisers, RNG) as one safetensors file.

Tensors go in the file; the structure around them (dicts with int keys, lists, numbers) goes, as JSON,
into its metadata. Any program with safetensors can read a ganzoo checkpoint, and loading one never runs
code. Files are written atomically, so a crash while saving keeps the previous checkpoint intact.
In a multi-process run each process also writes ``step-N.rankR.safetensors``: its own data position and
random streams, which the main file (the models, optimisers and rank 0's streams) does not hold.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from ganzoo.atomic import write_atomic
from ganzoo.errors import GanzooError
from ganzoo.run_folder import checkpoint_path, checkpoints, latest_checkpoint, prune_checkpoints, rank_part

__all__ = ["checkpoint_path", "checkpoints", "latest_checkpoint", "load_checkpoint", "prune_checkpoints",
           "rank_part", "readable_checkpoint", "save_checkpoint"]

STRUCTURE_KEY = "ganzoo.checkpoint"


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
        state = unflatten(skeleton, tensors)  # a crafted structure: a missing tensor, nesting past any depth
        if not isinstance(state, dict):
            raise ValueError(f"holds a {type(state).__name__}, not a table")
    except (KeyError, OSError, ValueError, TypeError, RecursionError, SafetensorError) as err:
        reason = str(err) if not isinstance(err, RecursionError) else "nested too deeply"
        raise GanzooError(f"{path}: not a ganzoo checkpoint ({reason})") from None
    return state


def readable_checkpoint(folder: Path, note: Callable[[str], None]) -> tuple[Path, dict[str, Any]]:
    """The newest checkpoint in ``folder`` that reads, falling back to the one before when the newest was
    damaged after it was written (writes are atomic, but disks and copies fail): two are kept for this.
    ``note`` is told when a fallback happens: losing steps is worth a line."""
    found = checkpoints(folder)
    if not found:
        raise GanzooError(f"{folder}: no checkpoint to resume from")
    for path in found:
        try:
            return path, load_checkpoint(path)
        except GanzooError as err:
            if path == found[-1]:
                raise
            note(f"{err}; resuming from the checkpoint before it")
    raise AssertionError("unreachable")  # pragma: no cover
