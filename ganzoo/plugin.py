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
from ganzoo.classifier_options import ClassifierOptions
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
    data_form,
    latent_codes,
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
from ganzoo.shapes import SUPPORTED_SIZES, check_image_size, supported_size

# name -> module that defines it, imported on first access (these import torch)
_LAZY = {
    "ConvDiscriminator": "ganzoo.layers",
    "ConvGenerator": "ganzoo.layers",
    "HeadedDiscriminator": "ganzoo.layers",
    "LatentProjection": "ganzoo.layers",
    "MinibatchStd": "ganzoo.layers",
    "WholeMapHead": "ganzoo.layers",
    "check_labels": "ganzoo.layers",
    "conv_layout": "ganzoo.layers",
    "group_spread": "ganzoo.layers",
    "init_dcgan_": "ganzoo.layers",
    "label_maps": "ganzoo.layers",
    "one_hot_block": "ganzoo.layers",
    "NonSaturatingObjective": "ganzoo.objectives",
    "logistic_d_loss": "ganzoo.objectives",
    "non_saturating_g_loss": "ganzoo.objectives",
    "Classifier": "ganzoo.evaluation.classifier",
    "ClassifierMetric": "ganzoo.evaluation.classifier",
    "accuracy": "ganzoo.evaluation.classifier",
    "labelled_images": "ganzoo.evaluation.classifier",
    "classifier_for": "ganzoo.evaluation.classifier",
    "EvalContext": "ganzoo.evaluation.context",
    "frechet_distance": "ganzoo.evaluation.frechet",
    "frechet_from_features": "ganzoo.evaluation.frechet",
    "gaussian_stats": "ganzoo.evaluation.frechet",
    "warn": "ganzoo.evaluation.warn",
    "EvaluationWarning": "ganzoo.evaluation.warn",
}

__all__ = [
    "Augment",
    "ClassifierOptions",
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
    "SUPPORTED_SIZES",
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
    "check_image_size",
    "data_form",
    "hookimpl",
    "latent_codes",
    "option",
    "options_class",
    "options_to_dict",
    "supported_size",
    "write_atomic",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'ganzoo.plugin' has no attribute {name!r}")
