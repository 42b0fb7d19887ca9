"""Everything a plugin imports from ganzoo, in one place: ``from ganzoo.plugin import hookimpl, GANLoss, ...``.

The names below are the public surface for plugin authors; the core's other modules may be reorganised
without notice, these names stay. The built-in plugins import from this module and from their own package
only, exactly as a third-party plugin would. What each kind of component must offer is written in
:mod:`ganzoo.contracts`; what each kind's ``register`` accepts, in :mod:`ganzoo.registration`.

Importing this module never imports torch (a plugin's entry-point module is imported to list and validate
recipes): the names that need torch (``group_spread``, the Fréchet helpers) are loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from ganzoo.__about__ import __version__
from ganzoo.atomic import write_atomic
from ganzoo.components import NoOptions, RecipeContext
from ganzoo.contracts import (
    Augment,
    DataInfo,
    DBatch,
    Discriminator,
    DOutput,
    GANLoss,
    GBatch,
    Generator,
    InMemoryData,
    ItemData,
    LatentPrior,
    Metric,
    Needs,
    Observer,
    Regularizer,
    SampledData,
    Traversable,
)
from ganzoo.errors import GanzooError
from ganzoo.hookspecs import hookimpl
from ganzoo.options import option, options_class, options_to_dict
from ganzoo.registration import (
    Register,
    RegisterAugments,
    RegisterDatasets,
    RegisterDiscriminators,
    RegisterGenerators,
    RegisterLosses,
    RegisterMetrics,
    RegisterRegularizers,
)

# name -> module that defines it, imported on first access (these import torch)
_LAZY = {
    "group_spread": "ganzoo.layers",
    "check_labels": "ganzoo.layers",
    "frechet_distance": "ganzoo.evaluation.frechet",
    "frechet_from_features": "ganzoo.evaluation.frechet",
    "gaussian_stats": "ganzoo.evaluation.frechet",
    "warn": "ganzoo.evaluation.warn",
    "EvaluationWarning": "ganzoo.evaluation.warn",
}

__all__ = [
    "Augment",
    "DBatch",
    "DOutput",
    "DataInfo",
    "Discriminator",
    "GANLoss",
    "GBatch",
    "GanzooError",
    "Generator",
    "InMemoryData",
    "ItemData",
    "LatentPrior",
    "Metric",
    "Needs",
    "NoOptions",
    "Observer",
    "RecipeContext",
    "Register",
    "RegisterAugments",
    "RegisterDatasets",
    "RegisterDiscriminators",
    "RegisterGenerators",
    "RegisterLosses",
    "RegisterMetrics",
    "RegisterRegularizers",
    "Regularizer",
    "SampledData",
    "Traversable",
    "__version__",
    "hookimpl",
    "option",
    "options_class",
    "options_to_dict",
    "write_atomic",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'ganzoo.plugin' has no attribute {name!r}")
