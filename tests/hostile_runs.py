"""Tiny finished runs the hostile-input tests start from (one per module, made in seconds)."""

from __future__ import annotations

from pathlib import Path

import torch
from helpers_training import tiny

import ganzoo
from ganzoo.recipe import load_recipe

RING = {
    "name": "tiny-ring",
    "seed": 3,
    "data": {"name": "ring8"},
    "generator": {"name": "mlp", "latent_dim": 4, "hidden_dims": [16]},
    "discriminator": {"name": "mlp", "hidden_dims": [16]},
    "loss": {"name": "non-saturating"},
    "train": {"steps": 2, "batch_size": 8, "log_every": 1, "grid_size": 8, "device": "cpu"},
}


def train(recipe, out: Path) -> Path:
    """``recipe`` (a dict or a shipped name made tiny) trained into ``out`` on one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        if isinstance(recipe, str):
            recipe = load_recipe(recipe, tiny(recipe, steps=2))
        return ganzoo.run_recipe(recipe, out=out, quiet=True).run_dir
    finally:
        torch.set_num_threads(threads)
