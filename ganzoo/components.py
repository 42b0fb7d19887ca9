"""What a plugin registers: a :class:`Component`, a name bound to a factory plus what the core needs to know
*without building it*.

Its one-line description, its options class (validated before any work starts), whether it can be
conditioned on a class label, which data it accepts, what it provides or needs. The factory may be given as
``"module:attr"`` so that listing and validating never import torch. What the factory's *result* must offer
is written in :mod:`ganzoo.contracts` (the batch types, ``GANLoss`` and ``Regularizer`` live there and are
re-exported here for plugins written against older releases); what each kind's ``register`` accepts is in
:mod:`ganzoo.registration`.

Any component may pass ``check_recipe(options, context)``, raising ``ValueError`` with one line when its
options do not fit the rest of the recipe (``context`` is a :class:`RecipeContext`: the data, the train
section, conditioning): a PacGAN ``pack`` that must divide ``train.batch_size`` is such a rule.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs

from ganzoo.contracts import (  # re-exported: the import paths of plugins written against older releases
    NO_NEEDS,
    DataInfo,
    DBatch,
    DOutput,
    GANLoss,
    GBatch,
    Needs,
    RecipeContext,
    Regularizer,
)
from ganzoo.errors import ComponentError, GanzooError
from ganzoo.options import options_class, parse_options

if TYPE_CHECKING:  # pragma: no cover
    import torch

Kind = Literal["generator", "discriminator", "loss", "dataset", "metric", "regularizer", "augment"]
KINDS: tuple[Kind, ...] = ("generator", "discriminator", "loss", "dataset", "metric", "regularizer", "augment")
DATA_KINDS = ("flat", "image")


@options_class
class NoOptions:
    """The options class of a component that takes none."""


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
    provides: tuple[str, ...] | Callable[[Any, int], tuple[str, ...]] = ()
    needs: Needs = attrs.field(default=NO_NEEDS, converter=Needs.of)

    def provided(self, options: Any, num_classes: int = 0) -> tuple[str, ...]:
        """The auxiliary outputs (a discriminator) or latent parts (a generator) this component gives, for
        these options and this many classes (0: unconditional)."""
        return tuple(self.provides(options, num_classes) if callable(self.provides) else self.provides)

    def missing(self, role: str, other: Component, options: Any, num_classes: int = 0) -> str | None:
        """Why ``other`` (the recipe's ``role``) lacks what this loss or regulariser needs, or None."""
        given = other.provided(options, num_classes)
        absent = [name for name in self.needs.get(role, ()) if name not in given]
        if not absent:
            return None
        what = "output" if role == "discriminator" else "latent part"
        return (f"{self.kind} {self.name!r} needs the {role}'s {absent[0]!r} {what}, which {role} {other.name!r} "
                f"does not give here (it gives: {', '.join(given) or 'none'})")

    @property
    def label(self) -> str:
        """``generator 'mlp' of plugin 'mlp'``: who to blame in a message."""
        return f"{self.kind} {self.name!r} of plugin {self.plugin!r}"

    def load_factory(self) -> Callable[..., Any]:
        """The factory, importing ``"module:attr"`` on first use; a :class:`ComponentError` naming the
        component, its plugin and what is missing when the string points nowhere.

        A loss's factory is wrapped so that the loss it builds carries the registration's ``needs``: a loss
        declares what it reads once, at registration, and the trainer reads it from the built object."""
        factory = self._import_factory()
        if self.kind == "loss" and self.needs:
            return functools.partial(_with_needs, factory, self.needs)
        return factory

    def _import_factory(self) -> Callable[..., Any]:
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

    def build(self, options: Any, **context: Any) -> Any:
        """The factory called with parsed ``options`` and its kind's context (``shape=``, ``split=``, ...).

        A factory that cannot take those arguments is the plugin's mistake: said in one line naming it, before
        the call, so that a TypeError raised inside a factory keeps its traceback."""
        factory = self.load_factory()
        try:
            signature = inspect.signature(self._import_factory())
        except (TypeError, ValueError):  # a callable without a signature: the call itself will speak
            return factory(options, **context)
        try:
            signature.bind(options, **context)
        except TypeError as err:
            given = ", ".join(["options", *(f"{key}=..." for key in context)])
            raise ComponentError(f"{self.label}: its factory cannot be called as factory({given}): {err}") from None
        return factory(options, **context)

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


def _with_needs(factory: Callable[..., Any], needs: Needs, *args: Any, **kwargs: Any) -> Any:
    loss = factory(*args, **kwargs)
    if isinstance(loss, GANLoss):
        loss.needs = needs
    return loss


@attrs.frozen
class Regularization:
    """A regulariser as a recipe applies it: ``weight`` times its penalty, every ``every`` critic steps."""

    regularizer: Regularizer
    weight: float = 1.0
    every: int = 1
    name: str = ""

    def term(self, batch: DBatch) -> torch.Tensor | None:
        """The penalty as added to D's loss when due: times the weight, and times ``every`` when lazy."""
        return self._weighted(self.regularizer.penalty(batch))

    def g_term(self, batch: GBatch) -> torch.Tensor | None:
        """The G-side penalty as added to G's loss when due: times the weight, and times ``every`` when lazy."""
        return self._weighted(self.regularizer.g_penalty(batch))

    def _weighted(self, penalty: torch.Tensor | None) -> torch.Tensor | None:
        return None if penalty is None else penalty * (self.weight * self.every)
