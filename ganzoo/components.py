"""What a plugin registers, and the contracts the registered pieces keep.

A :class:`Component` is a name bound to a factory plus what the core needs to know *without building
it*: its one-line description, its options class (validated before any work starts), whether it can be
conditioned on a class label, which data it accepts. The factory may be given as ``"module:attr"`` so that
listing and validating never import torch.

Factory signatures, by kind (``options`` is an instance of the component's options class):

- generator:     ``factory(options, *, shape, num_classes) -> nn.Module`` with ``forward(z, c=None)``
  returning samples in [-1, 1] of ``shape``, and attributes ``latent_dim`` and ``num_classes``
  (0 = unconditional).
- discriminator: ``factory(options, *, shape, num_classes) -> nn.Module`` with ``forward(x, c=None)``
  returning logits of shape ``[N]``; no sigmoid inside.
- loss:          ``factory(options) -> GANLoss`` (pure tensor functions, see :class:`GANLoss`).
- dataset:       ``factory(options, *, split) -> dataset`` where ``split`` is ``"train"`` or ``"test"``.
  The dataset has ``info`` (a :class:`DataInfo`) and offers its data in one of three ways:
  ``tensors() -> (x, y | None)`` (whole set in memory), ``sample(n, generator) -> (x, y | None)``
  (an endless source such as a Gaussian mixture), or the ``torch.utils.data.Dataset`` protocol yielding
  ``x`` or ``(x, c)``. Values are in [-1, 1].
- metric:        ``factory(options) -> metric`` with ``compute(context) -> dict[str, float]`` and, optionally,
  ``applies_to(context) -> bool`` (run by default for this generator); ``context`` is a
  :class:`ganzoo.evaluation.EvalContext`. See ``register_metrics`` in :mod:`ganzoo.hookspecs`.

Datasets also give ``info(options) -> DataInfo`` at registration, which must be cheap (no loading, no torch),
so that a recipe pairing a conditional model with unlabelled data fails at validation.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs

from ganzoo.options import options_class, parse_options

if TYPE_CHECKING:  # pragma: no cover
    import torch

Kind = Literal["generator", "discriminator", "loss", "dataset", "metric"]
KINDS: tuple[Kind, ...] = ("generator", "discriminator", "loss", "dataset", "metric")
DATA_KINDS = ("flat", "image")


@options_class
class NoOptions:
    """The options class of a component that takes none."""


@attrs.frozen
class DataInfo:
    """What a dataset knows about itself, so a recipe never repeats it.

    ``shape`` is one sample's shape, ``(D,)`` for points or ``(C, H, W)`` for images; ``num_classes`` is 0
    for unlabelled data.
    """

    shape: tuple[int, ...] = attrs.field(converter=tuple)
    num_classes: int = 0

    @property
    def kind(self) -> str:
        return "flat" if len(self.shape) == 1 else "image"


@attrs.frozen
class Component:
    """A registered name: the factory and everything the core checks before building it."""

    kind: Kind
    name: str
    factory: Callable[..., Any] | str
    description: str
    plugin: str
    options: type = NoOptions
    conditional: bool = False
    data_kinds: tuple[str, ...] = DATA_KINDS
    check: Callable[[Any, DataInfo], None] | None = None
    info: Callable[[Any], DataInfo] | None = None
    override: bool = False

    def load_factory(self) -> Callable[..., Any]:
        """The factory itself, importing ``"module:attr"`` on first use."""
        if callable(self.factory):
            return self.factory
        module, _, attr = self.factory.partition(":")
        obj: Any = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
        return obj

    def parse(self, table: Mapping[str, Any] | None, *, source: str = "", path: str = "") -> Any:
        """Validate a table of options (a recipe section less its ``name``) into the options class."""
        return parse_options(self.options, table, source=source, path=path or self.kind)

    def data_info(self, options: Any) -> DataInfo:
        """Shape and classes of a dataset component for these options, without loading anything."""
        if self.info is None:
            raise TypeError(f"{self.kind} {self.name!r} has no data info")
        return self.info(options)

    def validate_for(self, options: Any, data: DataInfo, conditional: bool) -> str | None:
        """Why this model cannot take this data (or conditioning), or None when it can."""
        if data.kind not in self.data_kinds:
            return (
                f"{self.name!r} takes {' or '.join(self.data_kinds)} data, "
                f"but the dataset gives {data.kind} samples of shape {list(data.shape)}"
            )
        if conditional and not self.conditional:
            return f"{self.name!r} cannot be conditioned on a class label"
        if self.check is not None:
            try:
                self.check(options, data)
            except ValueError as err:
                return str(err)
        return None


class GANLoss:
    """A GAN objective as pure tensor functions, kept apart from the training schedule.

    ``d_loss`` and ``g_loss`` take logits (or raw critic scores) and return scalars to *minimise*; they never
    step an optimiser. ``kind`` says how the trainer reports D's outputs: ``"logistic"`` losses read them as
    probabilities sigmoid(logit), ``"critic"`` losses as raw scores.
    """

    kind: Literal["logistic", "critic"] = "logistic"
    #: a relativistic loss compares fakes with reals in G's step too: the trainer then calls
    #: ``g_loss(fake_logits, real_logits=...)`` with D's logits on a fresh real batch
    needs_real_logits: bool = False

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def g_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def penalty(
        self, critic: Callable[..., torch.Tensor], real: torch.Tensor, fake: torch.Tensor, c: torch.Tensor | None
    ) -> torch.Tensor | None:
        """A regulariser that needs the critic itself (gradient penalty), added to the D loss; None if none."""
        return None

    def after_d_step(self, critic: Any) -> None:
        """Called after each optimiser step of the critic (weight clipping); nothing by default."""
