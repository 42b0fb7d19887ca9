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
so that a recipe pairing a conditional model with unlabelled data fails at validation; and optionally
``check_data(options)``, as cheap, raising ``ValueError`` when the files are not there (``ganzoo validate``
then says so before any work starts).

Any component may pass ``check_recipe(options, context)``, raising ``ValueError`` with one line when its
options do not fit the rest of the recipe (``context`` is a :class:`RecipeContext`: the data, the train
section, conditioning): a PacGAN ``pack`` that must divide ``train.batch_size`` is such a rule.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs

from ganzoo.errors import ComponentError, GanzooError
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
    #: how to undo the dataset's own transform: data units = model units * data_scale + data_offset
    #: (a ring scaled by 0.8 into tanh's range has data_scale 1.25; images in [-1, 1] shown in [0, 1] have
    #: 0.5 and 0.5). Recorded in each weights file, so samples can be given back in the data's own units.
    #: Left out of equality: two datasets of one shape and class count pair with the same models.
    data_scale: float = attrs.field(default=1.0, eq=False)
    data_offset: float = attrs.field(default=0.0, eq=False)

    @property
    def kind(self) -> str:
        return "flat" if len(self.shape) == 1 else "image"

    @property
    def units(self) -> dict[str, float]:
        """The transform to the data's units, as stored in a weights file's metadata."""
        return {"scale": float(self.data_scale), "offset": float(self.data_offset)}


@attrs.frozen
class RecipeContext:
    """What ``check_recipe`` holds a component's options against: the rest of the recipe, validated."""

    data: DataInfo
    train: Any  # ganzoo.recipe.schema.TrainOptions: batch_size, steps, d_steps...
    conditional: bool


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
    check_recipe: Callable[[Any, RecipeContext], None] | None = None
    check_data: Callable[[Any], None] | None = None

    @property
    def label(self) -> str:
        """``generator 'mlp' of plugin 'mlp'``: who to blame in a message."""
        return f"{self.kind} {self.name!r} of plugin {self.plugin!r}"

    def load_factory(self) -> Callable[..., Any]:
        """The factory itself, importing ``"module:attr"`` on first use; a :class:`ComponentError` naming the
        component, its plugin and what is missing when the string points nowhere."""
        if callable(self.factory):
            return self.factory
        module, sep, attr = self.factory.partition(":")
        if not sep or not module or not attr:
            raise ComponentError(f"{self.label}: factory {self.factory!r} is not 'module:attribute'")
        try:
            obj: Any = importlib.import_module(module)
        except Exception as err:  # ImportError, or whatever the module raised while importing
            raise ComponentError(
                f"{self.label}: factory {self.factory!r}: module {module!r} cannot be imported "
                f"({type(err).__name__}: {err})"
            ) from None
        for depth, part in enumerate(attr.split(".")):
            if not hasattr(obj, part):
                owner = ".".join([module, *attr.split(".")[:depth]])
                raise ComponentError(f"{self.label}: factory {self.factory!r}: {owner!r} has no attribute {part!r}")
            obj = getattr(obj, part)
        if not callable(obj):
            raise ComponentError(f"{self.label}: factory {self.factory!r} is a {type(obj).__name__}, not callable")
        return obj

    def call_plugin(self, what: str, function: Callable[..., Any], *args: Any) -> Any:
        """Call one of the plugin's own functions (``info``, a check): ``ValueError`` and ganzoo's errors pass
        through; anything else is the plugin's bug, reported in one line naming it."""
        try:
            return function(*args)
        except (ValueError, GanzooError):
            raise
        except Exception as err:
            raise ComponentError(f"{self.label}: its {what} raised {type(err).__name__}: {err}") from None

    def parse(self, table: Mapping[str, Any] | None, *, source: str = "", path: str = "") -> Any:
        """Validate a table of options (a recipe section less its ``name``) into the options class."""
        return parse_options(self.options, table, source=source, path=path or self.kind)

    def data_info(self, options: Any) -> DataInfo:
        """Shape and classes of a dataset component for these options, without loading anything."""
        if self.info is None:
            raise ComponentError(f"{self.label}: registered without info=, so its data's shape is unknown")
        info = self.call_plugin("info", self.info, options)
        if not isinstance(info, DataInfo):
            raise ComponentError(f"{self.label}: its info returned {type(info).__name__}, not a ganzoo.DataInfo")
        return info

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
                self.call_plugin("check", self.check, options, data)
            except ValueError as err:
                return str(err)
        return None

    def problem_with_recipe(self, options: Any, context: RecipeContext) -> str | None:
        """Why these options do not fit the rest of the recipe (``check_recipe``), or None."""
        if self.check_recipe is None:
            return None
        try:
            self.call_plugin("check_recipe", self.check_recipe, options, context)
        except ValueError as err:
            return str(err)
        return None

    def problem_with_data(self, options: Any) -> str | None:
        """Why the data these options name is not there (``check_data``), or None."""
        if self.check_data is None:
            return None
        try:
            self.call_plugin("check_data", self.check_data, options)
        except (ValueError, GanzooError) as err:
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
