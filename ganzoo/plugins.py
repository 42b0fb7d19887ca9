"""Finding and loading plugins: the ``ganzoo`` entry-point group plus plugins added in-process.

Each entry point is loaded in its own try/except, in a deterministic order (entry-point name, then
distribution), so one broken third-party package cannot take ganzoo down: its failure is recorded with
the plugin, distribution, version and error, shown by ``ganzoo plugins``, and the rest still loads.

Environment switches (comma-separated names of entry points or distributions):

- ``GANZOO_STRICT_PLUGINS=1``: a plugin that fails to load is an error (exit 2) naming it.
- ``GANZOO_PLUGINS=a,b``: load only these plugins.
- ``GANZOO_DISABLE_PLUGINS=a,b``: never load these plugins.
"""

from __future__ import annotations

import os
import traceback
from importlib import metadata
from typing import Any

import attrs
import pluggy

from ganzoo import hookspecs
from ganzoo.errors import PluginLoadError

GROUP = "ganzoo"
STRICT_ENV = "GANZOO_STRICT_PLUGINS"
ALLOW_ENV = "GANZOO_PLUGINS"
BLOCK_ENV = "GANZOO_DISABLE_PLUGINS"


@attrs.define
class PluginRecord:
    """One plugin as ``ganzoo plugins`` shows it."""

    name: str
    distribution: str
    version: str
    module: str
    source: str = "entry point"  # or "in-process"
    error: str | None = None
    registered: dict[str, list[str]] = attrs.Factory(dict)

    def as_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


def new_manager() -> pluggy.PluginManager:
    manager = pluggy.PluginManager(GROUP)
    manager.add_hookspecs(hookspecs)
    return manager


def _names(env: str) -> set[str]:
    return {part.strip() for part in os.environ.get(env, "").split(",") if part.strip()}


def strict() -> bool:
    return os.environ.get(STRICT_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _entry_points() -> list[metadata.EntryPoint]:
    eps = metadata.entry_points(group=GROUP)
    # the same distribution can be visible twice (e.g. an editable install plus a path entry): keep one
    unique = {(ep.name, ep.value): ep for ep in eps}
    return sorted(unique.values(), key=lambda ep: (ep.name, _dist_name(ep)))


def _dist_name(ep: metadata.EntryPoint) -> str:
    return ep.dist.name if ep.dist is not None else "?"


def _dist_version(ep: metadata.EntryPoint) -> str:
    return ep.dist.version if ep.dist is not None else "?"


def failure_message(record: PluginRecord) -> str:
    return (
        f"plugin {record.name!r} ({record.distribution} {record.version}) failed to load: {record.error}. "
        f"Block it with {BLOCK_ENV}={record.name}"
    )


def load_entry_points(manager: pluggy.PluginManager) -> list[PluginRecord]:
    """Register every allowed entry point with ``manager``; return one record per plugin considered."""
    allow, block = _names(ALLOW_ENV), _names(BLOCK_ENV)
    records = []
    for ep in _entry_points():
        dist = _dist_name(ep)
        if allow and not ({ep.name, dist} & allow):
            continue
        if {ep.name, dist} & block:
            continue
        record = PluginRecord(name=ep.name, distribution=dist, version=_dist_version(ep), module=ep.value)
        records.append(record)
        if manager.has_plugin(ep.name):
            record.error = f"another plugin is already named {ep.name!r}"
        else:
            try:
                manager.register(ep.load(), name=ep.name)
            except Exception as err:  # a broken plugin must not take ganzoo down
                record.error = _describe(err)
        if record.error and strict():
            raise PluginLoadError(failure_message(record))
    return records


def _describe(err: BaseException) -> str:
    """The error and where the plugin's own code raised it: the innermost frame outside ganzoo, so a
    registration that ganzoo refuses points at the plugin's ``register(...)`` line, not at ganzoo's check."""
    frames = traceback.extract_tb(err.__traceback__) if err.__traceback__ else []
    theirs = [frame for frame in frames if not _in_ganzoo(frame.filename)]
    last = (theirs or frames)[-1:]
    where = f" (at {last[0].filename}:{last[0].lineno})" if last else ""
    return f"{type(err).__name__}: {err}{where}"


def _in_ganzoo(filename: str) -> bool:
    return os.path.abspath(filename).startswith(os.path.dirname(os.path.abspath(__file__)) + os.sep)
