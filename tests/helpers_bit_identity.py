"""The behaviour guard's pieces: one very short run of every shipped recipe, and what is kept of it.

Each recipe trains 3 steps at tiny width (``helpers_training.tiny``) on one CPU thread; the recipes whose
data needs a download train on the offline digits instead (their models, loss and schedule are what is
held). What is kept of a run: every tensor of its weights files, the final sample grid drawn from the fixed
noise, and the last logged figures. ``fingerprint`` reduces them to per-tensor sums and absolute sums
(robust to the last bits of float rounding, which differ between CPUs) and ``digests`` to exact sha256s
(bit-identity on one machine). ``benchmarks/bit_identity.py`` prints and stores both.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

from helpers_training import OFFLINE_DATA, recipe_path, tiny

from ganzoo.recipe import apply_overrides, recipe_from_dict
from ganzoo.recipe.load import read_toml
from ganzoo.recipe.schema import Recipe
from ganzoo.run_folder import WEIGHT_ROLES, RunFolder

STEPS = 3
OFFLINE_STAND_IN = {"name": "digits", "image_size": 16}


def guard_recipe(name: str) -> Recipe:
    """Shipped recipe ``name`` at tiny size for :data:`STEPS` steps, on offline data."""
    raw = read_toml(recipe_path(name))
    if raw["data"]["name"] not in OFFLINE_DATA:
        raw["data"] = dict(OFFLINE_STAND_IN)
    return recipe_from_dict(apply_overrides(raw, tiny(name, steps=STEPS), name))


class _Grids:
    """An observer that keeps the sample grids a run draws from its fixed noise."""

    def __init__(self) -> None:
        self.samples: list[Any] = []

    def on_samples(self, step: int, path: Path, samples: Any) -> None:
        self.samples.append(samples.detach().cpu().clone())


def train_short(name: str, folder: Path) -> dict[str, Any]:
    """Train recipe ``name`` into ``folder``; returns ``{"tensors": {key: tensor}, "figures": {...}}``."""
    import torch
    from safetensors.torch import load_file

    from ganzoo.api import build_trainer

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        trainer = build_trainer(guard_recipe(name), RunFolder(folder), quiet=True)
        grids = _Grids()
        trainer.outputs.observers.append(grids)
        figures = trainer.fit()
    finally:
        torch.set_num_threads(before)
    tensors = {}
    for role in WEIGHT_ROLES:
        path = RunFolder(folder).weights(role)
        if path.is_file():
            tensors.update({f"{role}/{key}": value for key, value in load_file(path).items()})
    tensors["grid"] = grids.samples[-1]
    kept = {k: float(v) for k, v in figures.items() if isinstance(v, (int, float)) and k not in ("wall_s",)
            and not k.endswith("_per_s")}
    return {"tensors": tensors, "figures": kept}


def fingerprint(run: dict[str, Any]) -> dict[str, Any]:
    """Per tensor ``[sum, abs-sum]`` (float64) of floating tensors, exact values of integer ones."""
    out: dict[str, Any] = {}
    for key, tensor in sorted(run["tensors"].items()):
        if tensor.is_floating_point():
            t = tensor.double()
            out[key] = [float(t.sum()), float(t.abs().sum())]
        else:
            out[key] = tensor.flatten().tolist()[:16] + [int(tensor.sum())]
    return {"tensors": out, "figures": dict(sorted(run["figures"].items()))}


def digests(run: dict[str, Any]) -> dict[str, str]:
    """Exact sha256 of each tensor's bytes (and of the figures' reprs): bit-identity on one machine."""
    out = {key: hashlib.sha256(t.contiguous().numpy().tobytes()).hexdigest()[:16]
           for key, t in sorted(run["tensors"].items())}
    out["figures"] = hashlib.sha256(repr(sorted(run["figures"].items())).encode()).hexdigest()[:16]
    return out


def differences(stored: dict[str, Any], now: dict[str, Any], rtol: float = 5e-4,
                figure_rtol: float = 2e-2) -> list[str]:
    """What moved between two fingerprints beyond float-rounding noise (empty: the same behaviour).

    A tensor's sums are compared on the scale of its whole module's abs-sum (every tensor of ``generator/``,
    of ``discriminator/``, ...), not its own: Adam moves each element by about its learning rate whatever
    the gradient's size, so an element whose gradient cancels to nearly zero takes the sign that the CPU's
    rounding gives it (AVX2 and AVX-512 differ), and a small bias vector's own sum can move by a few per cent.
    Measured between an AMD and an Intel CPU, every shipped recipe: at most 1e-4 of the module (infogan-digits;
    the R3GAN recipes 4e-6, the rest 1e-8), 4e-3 of the sample grid (held to the figures' tolerance) and 2e-3
    of the last step's logged figures (infogan-digits and R3GAN). Another seed moves nine or more tensors or
    figures past these tolerances in every recipe; r3gan-digits' D learning rate doubled moves three."""
    found = []
    if sorted(stored["tensors"]) != sorted(now["tensors"]):
        found.append(f"tensors differ: {sorted(set(stored['tensors']) ^ set(now['tensors']))}")
    scales = _module_scales(stored["tensors"])
    for key in sorted(set(stored["tensors"]) & set(now["tensors"])):
        a, b = stored["tensors"][key], now["tensors"][key]
        if _sums(a):  # on the scale of the module's abs-sum
            tolerance = figure_rtol if key == "grid" else rtol  # the grid: G's outputs, as loose as the figures
            scale = tolerance * max(scales[_module(key)], 1e-8)
            if abs(a[0] - b[0]) > scale or abs(a[1] - b[1]) > scale:
                found.append(f"{key}: {a} -> {b}")
        elif a != b:
            found.append(f"{key}: {a} -> {b}")
    for key in sorted(set(stored["figures"]) | set(now["figures"])):
        a, b = stored["figures"].get(key), now["figures"].get(key)
        if a is None or b is None or not math.isclose(a, b, rel_tol=figure_rtol, abs_tol=figure_rtol):
            found.append(f"figure {key}: {a} -> {b}")
    return found


def _module(key: str) -> str:
    return key.split("/", 1)[0]


def _module_scales(tensors: dict[str, Any]) -> dict[str, float]:
    """Abs-sum of every floating tensor of each module (``grid`` is a module of its own)."""
    scales: dict[str, float] = {}
    for key, value in tensors.items():
        if _sums(value):
            scales[_module(key)] = scales.get(_module(key), 0.0) + value[1]
    return scales


def _sums(value: list[Any]) -> bool:
    """A floating tensor's ``[sum, abs-sum]`` (an integer tensor keeps its values)."""
    return len(value) == 2 and isinstance(value[0], float)
