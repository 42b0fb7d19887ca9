"""Shared pieces of the training-engine tests: tiny overrides, runs in-process or as real subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ganzoo.recipe import load_recipe, shipped_recipes

OFFLINE_DATA = ("ring8", "grid25", "digits", "stacked-digits")

# Width 8 (dcgan) or one hidden layer of 16 (mlp): a step takes milliseconds on one CPU core.
TINY_MODELS = {
    "dcgan": ["generator.width=8", "discriminator.width=8"],
    "mlp": ["generator.hidden_dims=[16]", "discriminator.hidden_dims=[16]"],
    "acgan": ["discriminator.width=8"],
    "infogan": ["generator.width=8", "discriminator.width=8"],
    "r3gan": ["generator.width=8", "generator.min_width=8", "generator.group_size=8",
              "discriminator.width=8", "discriminator.min_width=8", "discriminator.group_size=8"],
}


def recipe_path(name: str) -> Path:
    return shipped_recipes()[name]


def recipe_names(offline: bool | None = None) -> list[str]:
    """Shipped recipe names; ``offline=True`` keeps those whose data needs no download, False the others."""
    names = []
    for name in shipped_recipes():
        data = load_recipe(name).data.name
        if offline is None or (data in OFFLINE_DATA) == offline:
            names.append(name)
    return names


def tiny(name: str, *, steps: int = 3, batch_size: int = 8, log_every: int = 1, checkpoint_every: int = 0,
         sample_every: int = 0, extra: Iterable[str] = ()) -> list[str]:
    """``--set`` values that make shipped recipe ``name`` train in a second or two."""
    recipe = load_recipe(name)
    sets = [s for s in TINY_MODELS[recipe.generator.name] if s.startswith("generator.")]
    sets += [s for s in TINY_MODELS[recipe.discriminator.name] if s.startswith("discriminator.")]
    sets += [
        f"train.steps={steps}", f"train.batch_size={batch_size}", f"train.log_every={log_every}",
        f"train.checkpoint_every={checkpoint_every}", f"train.sample_every={sample_every}",
        "train.grid_size=8", "train.device=\"cpu\"",
    ]
    if recipe.eval.every:  # a recipe that evaluates: on a few hundred samples, not the protocol's thousands
        sets.append("eval.samples=300")
    return sets + list(extra)


def set_args(sets: Iterable[str]) -> list[str]:
    """``["--set", a, "--set", b, ...]``."""
    return [arg for value in sets for arg in ("--set", value)]


def cli_env() -> dict[str, str]:
    """The environment for a ganzoo subprocess: no GANZOO_* switches of the caller, one thread per process
    (the test machine is small and shared), never a GPU."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GANZOO_")}
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="", PYTHONUNBUFFERED="1")
    return env


def cli_command(args: Sequence[str]) -> list[str]:
    return [sys.executable, "-m", "ganzoo.cli.main", *map(str, args)]


def run_cli(*args: str | Path, cwd: str | Path, timeout: float = 180) -> subprocess.CompletedProcess:
    """``ganzoo ARGS`` in a fresh interpreter; fails the test (not hangs it) past ``timeout`` seconds."""
    return subprocess.run(cli_command(args), cwd=cwd, capture_output=True, text=True, env=cli_env(),
                           timeout=timeout)


def start_cli(*args: str | Path, cwd: str | Path, log: Path) -> subprocess.Popen:
    """``ganzoo ARGS`` started in the background, stdout and stderr going to ``log``."""
    handle = log.open("w")
    try:
        return subprocess.Popen(cli_command(args), cwd=cwd, stdout=handle, stderr=subprocess.STDOUT, env=cli_env())
    finally:
        handle.close()


def assert_one_line_error(stderr: str, *fragments: str) -> None:
    """A user error: exactly one non-empty line on stderr, ``ganzoo: error: ...``, no traceback."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1, stderr
    assert lines[0].startswith("ganzoo: error: "), stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def read_tensors(path: str | Path) -> dict:
    """All tensors of a safetensors file (no pickle involved)."""
    from safetensors.torch import load_file

    return load_file(str(path))


def resumed_like_uninterrupted(recipe: object, root: Path, until: int,
                                weights: Sequence[str] = ("generator.safetensors", "discriminator.safetensors")) -> Any:
    """Train ``recipe`` straight through in ROOT/full, and stopped at step ``until`` then resumed by a fresh trainer
    in ROOT/half; assert the ``weights`` files of the two match bit for bit. Returns the resumed trainer."""
    from ganzoo.api import build_trainer, run_recipe

    full = run_recipe(recipe, out=root / "full", quiet=True).run_dir
    first = build_trainer(recipe, root / "half", quiet=True)
    first.fit(until=until)
    del first
    second = build_trainer(recipe, root / "half", quiet=True)
    assert second.resume() == until
    second.fit()
    for name in weights:
        assert_same_tensors(full / name, root / "half" / name)
    return second


def assert_same_tensors(a: str | Path, b: str | Path) -> None:
    import torch

    left, right = read_tensors(a), read_tensors(b)
    assert left.keys() == right.keys()
    differ = [key for key in left if not torch.equal(left[key], right[key])]
    assert not differ, f"{a} and {b} differ in {differ[:5]}"
