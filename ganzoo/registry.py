"""Registries that map a recipe's names to components, filled through the plugin hooks.

Look-up by name; an unknown name gives the closest names; the same name from two plugins is an error
naming both, unless exactly one of them registered with ``override=True``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

import attrs
import pluggy

from ganzoo import plugins as plugin_loading
from ganzoo import registration
from ganzoo.__about__ import DISTRIBUTION
from ganzoo.components import KINDS, Component, Kind
from ganzoo.errors import DuplicateComponentError, PluginLoadError, UnknownComponentError

HOOKS: dict[Kind, str] = {
    "generator": "register_generators",
    "discriminator": "register_discriminators",
    "loss": "register_losses",
    "dataset": "register_datasets",
    "metric": "register_metrics",
    "regularizer": "register_regularizers",
    "augment": "register_augments",
}
PLURAL: dict[Kind, str] = {kind: hook.removeprefix("register_") for kind, hook in HOOKS.items()}


class Registry:
    """The components of one kind, by name."""

    def __init__(self, kind: Kind) -> None:
        self.kind = kind
        self._items: dict[str, Component] = {}

    def get(self, name: str) -> Component:
        try:
            return self._items[name]
        except KeyError:
            raise UnknownComponentError(self.unknown_message(name)) from None

    def unknown_message(self, name: str) -> str:
        names = sorted(self._items)
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        available = ", ".join(names) or "none: is a plugin failing to load? see `ganzoo plugins`"
        return f"unknown {self.kind} {name!r}{hint} (available: {available})"

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[Component]:
        return iter(self._items[name] for name in self.names())

    def __len__(self) -> int:
        return len(self._items)

    def add(self, component: Component, owners: dict[str, plugin_loading.PluginRecord]) -> None:
        old = self._items.get(component.name)
        if old is not None and old.override == component.override:
            first, second = owners[old.plugin], owners[component.plugin]
            # suggest blocking the newcomer, never a built-in plugin (which would drop all its components)
            newcomer = second if _builtin(first) or not _builtin(second) else first
            raise DuplicateComponentError(
                f"{self.kind} {component.name!r} is registered by two plugins: {_who(first)} and {_who(second)}; "
                f"rename it in {newcomer.name!r}, or block that plugin (GANZOO_DISABLE_PLUGINS={newcomer.name}), "
                f"or have {newcomer.name!r} register it with override=True to replace the other on purpose"
            )
        if old is None or component.override:
            self._items[component.name] = component


def _who(record: plugin_loading.PluginRecord) -> str:
    return f"{record.name!r} ({record.distribution} {record.version})"


def _builtin(record: plugin_loading.PluginRecord) -> bool:
    return record.distribution == DISTRIBUTION and record.source == "entry point"


@attrs.define
class Registries:
    """Every registry plus the record of each plugin that filled them."""

    by_kind: dict[str, Registry]
    plugins: list[plugin_loading.PluginRecord]

    def __getitem__(self, kind: str) -> Registry:
        return self.by_kind[kind]

    def component(self, kind: str, name: str) -> Component:
        return self.by_kind[kind].get(name)

    def failures(self) -> list[plugin_loading.PluginRecord]:
        return [record for record in self.plugins if record.error]


class _State:
    manager: pluggy.PluginManager | None = None
    records: list[plugin_loading.PluginRecord] = []
    built: Registries | None = None


def plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, with the entry points loaded on first use."""
    if _State.manager is None:
        manager = plugin_loading.new_manager()
        _State.records = plugin_loading.load_entry_points(manager)
        _State.manager = manager
    return _State.manager


def registries() -> Registries:
    """The filled registries (built once per process, rebuilt after a plugin is added or removed)."""
    if _State.built is None:
        manager = plugin_manager()
        _State.built = _build(manager, _State.records)
    return _State.built


def add_plugin(plugin: Any, name: str, *, version: str = "0", distribution: str = "(in-process)") -> None:
    """Register a plugin object in-process (tests, notebooks); see :mod:`ganzoo.testing`."""
    manager = plugin_manager()
    manager.register(plugin, name=name)
    _State.records.append(
        plugin_loading.PluginRecord(
            name=name, distribution=distribution, version=version, module=repr(plugin), source="in-process"
        )
    )
    _State.built = None


def remove_plugin(name: str) -> None:
    """Undo :func:`add_plugin`."""
    manager = plugin_manager()
    plugin = manager.get_plugin(name)
    if plugin is not None:
        manager.unregister(plugin)
    _State.records = [r for r in _State.records if r.name != name]
    _State.built = None


def reset() -> None:
    """Forget every plugin; the next :func:`registries` call loads the entry points again."""
    _State.manager, _State.records, _State.built = None, [], None


def _build(manager: pluggy.PluginManager, records: list[plugin_loading.PluginRecord]) -> Registries:
    by_kind = {kind: Registry(kind) for kind in KINDS}
    owners = {record.name: record for record in records}
    for record in records:
        record.registered = {}
        if record.error:
            continue
        plugin = manager.get_plugin(record.name)
        try:
            components = _collect(manager, plugin, record.name)
        except Exception as err:  # the plugin's hook raised: record it like an import failure
            record.error = plugin_loading._describe(err)
            if plugin_loading.strict():
                raise PluginLoadError(plugin_loading.failure_message(record)) from None
            continue
        for component in components:
            by_kind[component.kind].add(component, owners)
            record.registered.setdefault(PLURAL[component.kind], []).append(component.name)
    return Registries(by_kind=by_kind, plugins=records)


def _collect(manager: pluggy.PluginManager, plugin: Any, plugin_name: str) -> list[Component]:
    """Call each of one plugin's hooks with a ``register`` bound to that plugin."""
    found: list[Component] = []
    for kind, hook_name in HOOKS.items():
        caller = getattr(manager.hook, hook_name)
        for impl in caller.get_hookimpls():
            if impl.plugin is not plugin:
                continue

            def register(name: str, factory: Any, *, description: str, _kind: Kind = kind, **support: Any) -> None:
                found.append(registration.component(_kind, plugin_name, name, factory, description, support))

            impl.function(**{arg: register for arg in impl.argnames})
    return found
