"""What each kind's ``register`` accepts: one typed signature per hook, checked when a plugin registers.

Each hook of :mod:`ganzoo.hookspecs` receives a ``register`` function; its signature depends on the kind
(``register_losses(register: RegisterLosses)``). A keyword that does not apply to the kind (``info=`` for a
generator, ``data_kinds=`` for a loss) is an error at registration naming the plugin, the component and the
keyword, so a plugin learns of it when it loads rather than when a recipe behaves oddly.

The keywords, by kind:

- every kind: ``options`` (an ``@options_class``), ``override`` (replace another plugin's component of the
  same name on purpose);
- generator, discriminator: ``conditional``, ``data_kinds``, ``check(options, DataInfo)``,
  ``check_recipe(options, RecipeContext)``, ``provides`` (named outputs, or a function of the options and
  the number of classes giving them);
- loss, regularizer: ``check_recipe``, ``needs`` (a :class:`ganzoo.contracts.Needs`);
- augment: ``data_kinds``, ``check``, ``check_recipe``;
- dataset: ``info(options) -> DataInfo`` (required: cheap, no loading), ``check_data(options)``,
  ``check_recipe``;
- metric: ``conditional`` (whether it takes a conditional generator), ``data_kinds``; both are enforced
  when metrics are chosen and run; ``check_recipe``, run when a recipe's ``eval.metrics`` names the metric.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from ganzoo.components import Component, Kind
from ganzoo.contracts import DataInfo, Needs, RecipeContext
from ganzoo.errors import RecipeError
from ganzoo.options import check_defaults

Check = Callable[[Any, DataInfo], None]
CheckRecipe = Callable[[Any, RecipeContext], None]
Provides = tuple[str, ...] | Callable[[Any, int], tuple[str, ...]]

_COMMON = frozenset({"options", "override"})
_MODEL = _COMMON | {"conditional", "data_kinds", "check", "check_recipe", "provides"}
KEYWORDS: Mapping[Kind, frozenset[str]] = {
    "generator": _MODEL,
    "discriminator": _MODEL,
    "loss": _COMMON | {"check_recipe", "needs"},
    "regularizer": _COMMON | {"check_recipe", "needs"},
    "augment": _COMMON | {"data_kinds", "check", "check_recipe"},
    "dataset": _COMMON | {"info", "check_data", "check_recipe"},
    "metric": _COMMON | {"conditional", "data_kinds", "check_recipe"},
}


class RegisterGenerators(Protocol):
    def __call__(self, name: str, factory: Callable[..., Any] | str, *, description: str, options: type = ...,
                 conditional: bool = False, data_kinds: tuple[str, ...] = ..., check: Check | None = None,
                 check_recipe: CheckRecipe | None = None, provides: Provides = (), override: bool = False) -> None: ...


class RegisterDiscriminators(RegisterGenerators, Protocol):
    """The same keywords as a generator's."""


class RegisterLosses(Protocol):
    def __call__(self, name: str, factory: Callable[..., Any] | str, *, description: str, options: type = ...,
                 needs: Needs | Mapping[str, Any] | None = None, check_recipe: CheckRecipe | None = None,
                 override: bool = False) -> None: ...


class RegisterRegularizers(RegisterLosses, Protocol):
    """The same keywords as a loss's (``needs`` without ``real_logits``)."""


class RegisterAugments(Protocol):
    def __call__(self, name: str, factory: Callable[..., Any] | str, *, description: str, options: type = ...,
                 data_kinds: tuple[str, ...] = ..., check: Check | None = None,
                 check_recipe: CheckRecipe | None = None, override: bool = False) -> None: ...


class RegisterDatasets(Protocol):
    def __call__(self, name: str, factory: Callable[..., Any] | str, *, description: str,
                 info: Callable[[Any], DataInfo], options: type = ..., check_data: Callable[[Any], None] | None = None,
                 check_recipe: CheckRecipe | None = None, override: bool = False) -> None: ...


class RegisterMetrics(Protocol):
    def __call__(self, name: str, factory: Callable[..., Any] | str, *, description: str, options: type = ...,
                 conditional: bool = False, data_kinds: tuple[str, ...] = ..., check_recipe: CheckRecipe | None = None,
                 override: bool = False) -> None: ...


class Register(Protocol):
    """Any kind's ``register`` (the annotation of plugins written before the per-kind signatures)."""

    def __call__(self, name: str, factory: Any, *, description: str, **support: Any) -> None: ...


def component(kind: Kind, plugin: str, name: Any, factory: Any, description: Any, support: dict[str, Any]) -> Component:
    """A plugin's registration held to its kind's signature and the contract, as a :class:`Component`; a
    ``ValueError`` with one line naming what is wrong (the plugin is then reported as failed)."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"register({name!r}, ...): a {kind}'s name must be a non-empty string")
    label = f"{kind} {name!r}"
    stray = sorted(set(support) - KEYWORDS[kind])
    if stray:
        raise ValueError(f"{label} of plugin {plugin!r}: register() got {stray[0]}=, which does not apply to a {kind}; "
                         f"allowed: {', '.join(sorted(KEYWORDS[kind]))}")
    if not isinstance(description, str):
        raise ValueError(f"{label}: description= must be a string, not {type(description).__name__}")
    if not callable(factory) and not (isinstance(factory, str) and factory.count(":") == 1 and all(factory.split(":"))):
        raise ValueError(f"{label}: factory {factory!r} is neither callable nor 'module:attribute'")
    if kind == "dataset" and not callable(support.get("info")):
        raise ValueError(f"{label} is registered without info= (a function options -> ganzoo.DataInfo, required "
                         "so recipes are checked without loading data)")
    if "options" in support:
        try:
            check_defaults(support["options"])
        except RecipeError as err:
            raise ValueError(f"{label}: {err}") from None
    if "needs" in support:
        support["needs"] = Needs.of(support["needs"])
        if kind == "regularizer" and support["needs"].real_logits:
            raise ValueError(f"{label}: needs real_logits applies to a loss only (G's step)")
    if "data_kinds" in support:
        support["data_kinds"] = tuple(support["data_kinds"])
    return Component(kind=kind, name=name, factory=factory, description=description, plugin=plugin, **support)
