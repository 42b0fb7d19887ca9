"""ganzoo: a plugin-based, modular GAN zoo.

Importing ganzoo is cheap and never imports torch; the training and sampling API is loaded on first use
(``ganzoo.Trainer``, ``ganzoo.build_generator``...), so the CLI starts fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from ganzoo.__about__ import __version__
from ganzoo.components import Component, Regularization
from ganzoo.contracts import DataInfo, DBatch, DOutput, GANLoss, GBatch, Needs, Regularizer
from ganzoo.errors import GanzooError
from ganzoo.hookspecs import hookimpl
from ganzoo.options import option, options_class

# public name -> module that defines it, imported on first access
_LAZY = {
    "build_generator": "ganzoo.build",
    "build_discriminator": "ganzoo.build",
    "build_loss": "ganzoo.build",
    "build_dataset": "ganzoo.build",
    "build_regularizer": "ganzoo.build",
    "build_augment": "ganzoo.build",
    "load_generator": "ganzoo.weights",
    "guided_generator": "ganzoo.guided",
    "save_weights": "ganzoo.weights",
    "Trainer": "ganzoo.api",
    "run_recipe": "ganzoo.api",
    "sample": "ganzoo.api",
    "load_recipe": "ganzoo.recipe",
    "registries": "ganzoo.registry",
}

__all__ = [
    "Component",
    "DBatch",
    "DOutput",
    "DataInfo",
    "GANLoss",
    "GBatch",
    "Needs",
    "Regularization",
    "Regularizer",
    "GanzooError",
    "__version__",
    "hookimpl",
    "option",
    "options_class",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'ganzoo' has no attribute {name!r}")
