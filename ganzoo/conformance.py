"""Holding a registered component to its contract (``ganzoo plugins --check``).

Registration is checked when a plugin loads (:mod:`ganzoo.registration`), but what a factory *builds* is
only known by building it. Here each component is built with its default options, on the smallest input its
own checks accept, and the result is held to its kind's contract in :mod:`ganzoo.contracts`: a plugin author
learns of a generator without ``latent_dim`` or a discriminator giving ``[N, 1]`` logits from one command,
not from a traceback in the middle of a run. Datasets are only asked for their ``info`` (building one may
load or download data); components whose options have no defaults are not built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ganzoo import contracts
from ganzoo.components import Component
from ganzoo.errors import GanzooError

#: sample shapes tried, smallest first: the first one a model's ``data_kinds`` and ``check`` accept is used
SHAPES: tuple[tuple[int, ...], ...] = ((2,), (1, 8, 8), (1, 16, 16), (3, 32, 32), (1, 28, 28), (3, 64, 64))
BATCH = 4


def problems(component: Component) -> list[str]:
    """What is wrong with ``component`` against its contract, one line each (``[]``: it keeps it)."""
    try:
        factory = component.load_factory()
    except GanzooError as err:
        return [str(err)]
    try:
        options = component.parse({})
    except GanzooError:
        return []  # options without defaults: nothing can be built without a recipe
    if component.kind == "dataset":
        try:
            component.data_info(options)
        except (ValueError, GanzooError) as err:
            return [f"{component.label}: {err}"]
        return []
    check = _CHECKS[component.kind]
    try:
        import torch

        with torch.random.fork_rng(devices=[]), torch.no_grad():
            problem = check(component, factory, options)
    except Exception as err:  # whatever the plugin's code raised while being built or called
        problem = f"building or calling it raised {type(err).__name__}: {err}"
    return [] if problem is None else [f"{component.label}: {problem}"]


def _shape(component: Component, options: Any, conditional: bool) -> tuple[int, ...] | None:
    for shape in SHAPES:
        info = contracts.DataInfo(shape, 3 if conditional else 0)
        if component.validate_for(options, info, conditional) is None:
            return shape
    return None


def _generator(component: Component, factory: Callable[..., Any], options: Any) -> str | None:
    import torch

    shape = _shape(component, options, False)
    if shape is None:
        return None  # takes none of the shapes tried: nothing to build it for
    model = factory(options, shape=shape, num_classes=0)
    if not isinstance(model, contracts.Generator):
        return "the generator it builds lacks latent_dim or num_classes (see ganzoo.contracts.Generator)"
    if contracts.num_classes(model) != 0:
        return f"built with num_classes=0, its num_classes is {model.num_classes}"
    out = model.eval()(torch.randn(BATCH, int(model.latent_dim)), None)
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (BATCH, *shape):
        got = list(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        return f"G(z, None) gave {got}, not samples of shape {[BATCH, *shape]}"
    return None


def _discriminator(component: Component, factory: Callable[..., Any], options: Any) -> str | None:
    import torch

    shape = _shape(component, options, False)
    if shape is None:
        return None
    model = factory(options, shape=shape, num_classes=0)
    if not isinstance(model, contracts.Discriminator):
        return "the discriminator it builds is not callable as D(x, c)"
    n = BATCH * contracts.pack(model)
    out = model.eval()(torch.randn(n, *shape), None)
    if isinstance(out, Mapping) and "logits" not in out:
        return f"D(x, None) gave a mapping without 'logits' (keys: {', '.join(map(str, out))})"
    logits = out["logits"] if isinstance(out, Mapping) else out
    if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != (n,):
        got = list(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        return f"D(x, None) gave logits {got}, not of shape [{n}]"
    return None


def _loss(component: Component, factory: Callable[..., Any], options: Any) -> str | None:
    loss = factory(options)
    if not isinstance(loss, contracts.GANLoss):
        return f"it builds a {type(loss).__name__}, not a ganzoo.GANLoss"
    if loss.family not in ("logistic", "critic"):
        return f"its family is {loss.family!r}; allowed: logistic, critic"
    return None


def _regularizer(component: Component, factory: Callable[..., Any], options: Any) -> str | None:
    regularizer = factory(options)
    if not isinstance(regularizer, contracts.Regularizer):
        return f"it builds a {type(regularizer).__name__}, not a ganzoo.Regularizer"
    return None


def _augment(component: Component, factory: Callable[..., Any], options: Any) -> str | None:
    import torch

    shape = _shape(component, options, False)
    if shape is None:
        return None
    augment = factory(options, shape=shape)
    if not isinstance(augment, contracts.Augment):
        return f"it builds a {type(augment).__name__}, which is not callable as augment(x, generator)"
    x = torch.rand(BATCH, *shape) * 2 - 1
    out = augment(x, torch.Generator().manual_seed(0))
    if not isinstance(out, torch.Tensor) or out.shape != x.shape:
        got = list(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        return f"augment(x, generator) gave {got}, not x's shape {list(x.shape)}"
    return None


def _metric(component: Component, factory: Callable[..., Any], options: Any) -> str | None:
    metric = factory(options)
    if not isinstance(metric, contracts.Metric):
        return f"it builds a {type(metric).__name__} without compute(context)"
    wrong = {key: way for key, way in contracts.better(metric).items() if way not in ("lower", "higher")}
    if wrong:
        key = next(iter(wrong))
        return f"its better[{key!r}] is {wrong[key]!r}; allowed: lower, higher"
    return None


_CHECKS: dict[str, Callable[[Component, Callable[..., Any], Any], str | None]] = {
    "generator": _generator,
    "discriminator": _discriminator,
    "loss": _loss,
    "regularizer": _regularizer,
    "augment": _augment,
    "metric": _metric,
}
