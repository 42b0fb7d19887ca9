"""What the models said they give, held to what they return, before a run starts.

A discriminator registered with ``provides=("class_logits",)`` (or a loss or regulariser that ``needs`` one of
D's named outputs) is taken at its word by recipe validation, which builds nothing. A D that then returns a
bare tensor failed at the first critic step, with a ``KeyError`` traceback and a run folder already half
written. Here G and D run once, on a couple of samples, before the trainer exists, and a missing output is
one line naming the plugin, the component and the output (a generator that declares or is asked for latent
codes must have ``latent_codes``; no forward is needed for that). The forward runs in eval mode, without gradients
and on a private random stream, so the seeded run that follows trains exactly as it would have.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ganzoo import contracts
from ganzoo.components import NO_NEEDS, Component, GANLoss, Needs, Regularization
from ganzoo.errors import ComponentError, GanzooError
from ganzoo.registry import registries

SAMPLES = 2  # per pack: enough for a batch dimension, and for a BatchNorm that insists on more than one


def check_outputs(generator: Any, discriminator: Any, loss: GANLoss, regularizations: Iterable[Any] = (), *,
                  num_classes: int = 0, declared: Mapping[str, tuple[Component, Any]] | None = None) -> None:
    """Refuse, in one line, a discriminator that lacks an output it declared or that the loss or a regulariser
    reads (a generator likewise, for its latent codes). ``declared``: each model's component and parsed
    options by role (a recipe's); else they are read from the model's ``card`` (``ganzoo.build_*``), and a
    model built by hand is held to the loss's and regularisers' needs only."""
    regularizations = list(regularizations)
    models = {"generator": generator, "discriminator": discriminator}
    wanted = {role: list(_wanted(role, _declared(role, model, declared), loss, regularizations, num_classes))
              for role, model in models.items()}
    if wanted["generator"] and contracts.latent_codes(generator) is None:
        raise ComponentError(f"{wanted['generator'][0][1]}, but {type(generator).__name__} has no "
                             "latent_codes(z) to give it (see ganzoo.contracts.LatentPrior)")
    if not wanted["discriminator"] or _has_lazy_parameters(generator, discriminator):
        return  # nothing to hold D to, or a forward would initialise parameters outside the seeded run
    returned = _returned(generator, discriminator, num_classes)
    if returned is None:
        return  # the models fail on their own: training reports it as before
    extras, what = returned
    for name, who in wanted["discriminator"]:
        if name not in extras:
            raise ComponentError(f"{who}, but D(x, c) of {type(discriminator).__name__} returns {what}, without "
                                 f"{name!r}: return a mapping with 'logits' and {name!r}")


def _declared(role: str, model: Any, declared: Mapping[str, tuple[Component, Any]] | None
              ) -> tuple[Component, Any] | None:
    """The model's component and options: as given, or as its card (``ganzoo.build_*``) records them."""
    if declared is not None:
        return declared.get(role)
    card = contracts.card(model)
    if card is None or card.component is None:
        return None
    try:
        component = registries().component(role, card.component)
        return component, component.parse(card.options, source="python", path=role)
    except GanzooError:
        return None  # a card from elsewhere: the loss's needs still apply


def _wanted(role: str, declared: tuple[Component, Any] | None, loss: GANLoss, regularizations: list[Any],
            num_classes: int) -> Iterator[tuple[str, str]]:
    """Each output (D) or latent part (G) the model must give, with who wants it (the first is blamed)."""
    what = "output" if role == "discriminator" else "latent part"
    if declared is not None:
        component, options = declared
        for name in component.provided(options, num_classes):
            yield name, f"{component.label} declares the {what} {name!r} (provides=)"
    for name in loss.needs.get(role):
        yield name, f"the loss {type(loss).__name__} needs the {role}'s {name!r} {what}"
    for regularization in regularizations:
        for name in _regularizer_needs(regularization).get(role):
            yield name, f"regularizer {regularization.name!r} needs the {role}'s {name!r} {what}"


def _regularizer_needs(regularization: Any) -> Needs:
    if not isinstance(regularization, Regularization) or not regularization.name:
        return NO_NEEDS
    try:
        return registries().component("regularizer", regularization.name).needs
    except GanzooError:
        return NO_NEEDS


def _has_lazy_parameters(*models: Any) -> bool:
    from torch.nn.parameter import is_lazy

    return any(is_lazy(p) for model in models for p in model.parameters())


def _returned(generator: Any, discriminator: Any, num_classes: int) -> tuple[set[str], str] | None:
    """D's extra output names on a few fakes, and how to describe what it returned; None if the call fails."""
    import torch

    n = SAMPLES * contracts.pack(discriminator)
    g_device, d_device = _device(generator), _device(discriminator)
    try:
        with _evaluating(generator, discriminator), torch.no_grad(), _private_rng(g_device, d_device):
            z = torch.randn(n, int(generator.latent_dim), generator=torch.Generator().manual_seed(0)).to(g_device)
            c = torch.zeros(n, dtype=torch.long) if num_classes else None
            fakes = generator(z, None if c is None else c.to(g_device))
            result = discriminator(fakes.to(d_device), None if c is None else c.to(d_device))
    except Exception:  # noqa: BLE001 - a model that cannot run at all is training's to report, as before
        return None
    if isinstance(result, Mapping):
        keys = [str(key) for key in result if key != "logits"]
        return set(keys), f"a mapping of {', '.join(['logits', *keys])}"
    return set(), f"a bare {type(result).__name__}"


@contextlib.contextmanager
def _evaluating(*models: Any) -> Iterator[None]:
    """Eval mode for the block (no BatchNorm statistics or spectral-norm iterations updated), each
    submodule's own mode restored after."""
    modes = [(module, module.training) for model in models for module in model.modules()]
    for model in models:
        model.eval()
    try:
        yield
    finally:
        for module, training in modes:
            module.training = training


def _device(model: Any) -> Any:
    import torch

    return next(iter(model.parameters()), torch.empty(0)).device


@contextlib.contextmanager
def _private_rng(*devices: Any) -> Iterator[None]:
    """Whatever the models draw (noise layers) comes from a stream restored after: the seeded run is untouched."""
    import torch

    cuda = sorted({device.index or 0 for device in devices if device.type == "cuda"})
    with torch.random.fork_rng(devices=cuda):
        yield
