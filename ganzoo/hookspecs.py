"""The hooks a plugin implements: one per registry.

A plugin is any module or object with functions marked ``@ganzoo.hookimpl``, registered through the
``ganzoo`` entry-point group. Each hook receives ``register``, a function to call once per component::

    register(name, factory, description="...", options=OptionsClass, ...)

with the keywords of its kind (:mod:`ganzoo.registration`; any other is an error naming the plugin).
``factory`` may be ``"module:attr"`` so that listing plugins never imports heavy modules. See
:mod:`ganzoo.contracts` for what each kind of factory must return, and ``docs/plugins.md`` for a guide.
"""

from __future__ import annotations

import pluggy

from ganzoo.registration import (  # noqa: F401  (Register: the annotation of plugins written for 0.x)
    Register,
    RegisterAugments,
    RegisterDatasets,
    RegisterDiscriminators,
    RegisterGenerators,
    RegisterLosses,
    RegisterMetrics,
    RegisterRegularizers,
)

hookspec = pluggy.HookspecMarker("ganzoo")
hookimpl = pluggy.HookimplMarker("ganzoo")


@hookspec
def register_generators(register: RegisterGenerators) -> None:
    """Register generators: ``nn.Module`` with ``forward(z, c=None)`` giving samples in [-1, 1]."""


@hookspec
def register_discriminators(register: RegisterDiscriminators) -> None:
    """Register discriminators or critics: ``nn.Module`` with ``forward(x, c=None)`` giving logits ``[N]``."""


@hookspec
def register_losses(register: RegisterLosses) -> None:
    """Register losses: factories of :class:`ganzoo.contracts.GANLoss` objects; ``needs=ganzoo.Needs(...)`` declares what
    a loss reads beyond D's logits (its extra outputs, G's codes, a fresh real batch in G's step)."""


@hookspec
def register_datasets(register: RegisterDatasets) -> None:
    """Register datasets; each must also pass ``info=`` so shape and classes are known without loading."""


@hookspec
def register_metrics(register: RegisterMetrics) -> None:
    """Register evaluation metrics: ``factory(options) -> metric``, cheap (no data, no training yet); the
    contract is :class:`ganzoo.contracts.Metric`. ``data_kinds`` and ``conditional`` are enforced.

    The metric object offers:

    - ``compute(context) -> dict[str, float]``: the figures, named without the metric's name (``ganzoo eval``
      shows them under it; metrics.jsonl stores ``"metric/figure"``). ``context`` is a
      :class:`ganzoo.evaluation.EvalContext`: the generator, its ModelCard, the dataset's name, options and
      ``data_info`` from the card's recipe, ``n``, ``seed``, ``device``, ``cache_dir``, and the memoised
      ``samples()``, ``real(split)`` and ``dataset(split)``. When the metric does not fit the generator
      or its data, raise :class:`ganzoo.GanzooError` with one line saying why.
    - ``applies_to(context) -> bool`` (optional): True when the metric fits this generator and its data and
      should run when no metric is named (``ganzoo eval`` without ``--metric``, a recipe's ``[eval]``
      without ``metrics``). It should be cheap: decide from ``context.card``, ``context.data_info`` and
      ``context.dataset_name`` where possible. A metric without it runs only when named.
    - ``better`` (optional): ``{"figure": "lower" | "higher"}``, which way each figure improves; a recipe's
      ``eval.keep_best = "metric/figure"`` accepts only the figures named here.

    Warn about figures that are computed but biased with ``ganzoo.evaluation.warn.warn``
    (an :class:`~ganzoo.evaluation.EvaluationWarning`). Anything trained once and reused (a classifier)
    belongs under ``context.cache_dir``, written atomically (:mod:`ganzoo.atomic`).
    """


@hookspec
def register_regularizers(register: RegisterRegularizers) -> None:
    """Register regularisers: ``factory(options) -> ganzoo.Regularizer`` with ``penalty(batch)`` (an unweighted
    term added to D's loss; ``batch`` is a :class:`ganzoo.components.DBatch`) and/or ``after_d_step(D)`` (a
    constraint such as weight clipping). A recipe's ``[[regularizer]]`` list gives each ``weight`` and
    ``every``. Pass ``needs=ganzoo.Needs(discriminator=("class_logits",))`` when it reads an auxiliary output of D.
    """


@hookspec
def register_augments(register: RegisterAugments) -> None:
    """Register D-input augmentations: ``factory(options, *, shape) -> augment`` with
    ``augment(x, generator) -> x``, differentiable, drawing its randomness from ``generator`` only (the run
    keeps that stream in its checkpoints, so a resumed run is bit-exact). Chosen by a recipe's ``[augment]``.
    """
