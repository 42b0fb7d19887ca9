"""``ganzoo version``, ``list``, ``plugins`` and ``recipes``: what is installed and what it offers."""

from __future__ import annotations

import argparse
import platform
import sys

from ganzoo.__about__ import __version__
from ganzoo.cli import render

KIND_ARGS = {"generators": "generator", "discriminators": "discriminator", "losses": "loss",
             "datasets": "dataset", "metrics": "metric"}


def add_parser(sub: argparse._SubParsersAction) -> None:
    version = sub.add_parser("version", help="print ganzoo's version")
    version.set_defaults(handler=show_version)

    listing = sub.add_parser("list", help="list registered components")
    listing.add_argument("kind", nargs="?", choices=list(KIND_ARGS), help="only this kind")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=show_list)

    plugins = sub.add_parser("plugins", help="list plugins, what they registered and load errors")
    plugins.add_argument("--json", action="store_true", help="machine-readable output")
    plugins.add_argument("--check", action="store_true",
                         help="also import every component's factory (imports torch); exit 2 if any fails")
    plugins.set_defaults(handler=show_plugins)

    recipes = sub.add_parser("recipes", help="list the shipped recipes")
    recipes.add_argument("--json", action="store_true", help="machine-readable output")
    recipes.set_defaults(handler=show_recipes)


def show_version(args: argparse.Namespace) -> int:
    print(f"ganzoo {__version__} (Python {platform.python_version()})")
    return 0


def _warn_failures(found) -> None:
    failed = found.failures()
    if failed:
        names = ", ".join(record.name for record in failed)
        render.warn(f"{len(failed)} plugin(s) failed to load: {names} (see `ganzoo plugins`)")


def show_list(args: argparse.Namespace) -> int:
    from ganzoo.options import describe_options
    from ganzoo.registry import registries

    found = registries()
    kinds = [KIND_ARGS[args.kind]] if args.kind else list(KIND_ARGS.values())
    components = [component for kind in kinds for component in found[kind]]
    _warn_failures(found)
    if args.json:
        render.emit_json([
            {
                "kind": c.kind, "name": c.name, "plugin": c.plugin, "description": c.description,
                "conditional": c.conditional, "data_kinds": list(c.data_kinds),
                "options": describe_options(c.options),
            }
            for c in components
        ])
        return 0
    rows = [
        [c.kind, c.name, c.plugin, _conditional(c), ", ".join(c.data_kinds) if c.kind in ("generator", "discriminator") else "", c.description]
        for c in components
    ]
    render.table("Registered components", ["kind", "name", "plugin", "conditional", "data", "description"], rows)
    return 0


def _conditional(component) -> str:
    if component.kind not in ("generator", "discriminator"):
        return ""
    return "yes" if component.conditional else "no"


def show_plugins(args: argparse.Namespace) -> int:
    from rich.markup import escape

    from ganzoo.registry import registries

    found = registries()
    broken = check_factories(found) if args.check else {}
    if args.json:
        rows = [record.as_json() for record in found.plugins]
        if args.check:
            for row in rows:
                row["factory_errors"] = broken.get(row["name"], [])
        render.emit_json(rows)
        return 2 if args.check and (broken or found.failures()) else 0
    rows = []
    for record in found.plugins:
        registered = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in record.registered.items())
        problems = [record.error] if record.error else broken.get(record.name, [])
        status = f"[red]failed: {escape('; '.join(problems))}[/red]" if problems else "[green]ok[/green]"
        rows.append([record.name, record.distribution, record.version, registered or "-", status])
    render.table("Plugins (entry-point group 'ganzoo')", ["plugin", "distribution", "version", "registered", "status"], rows)
    if not args.check:
        return 0
    failures = [record.error for record in found.failures()] + [line for lines in broken.values() for line in lines]
    for line in failures:
        print(f"ganzoo: error: {line}", file=sys.stderr)
    return 2 if failures else 0


def check_factories(found) -> dict[str, list[str]]:
    """Import every registered factory; the failures (one line each) by plugin name."""
    from ganzoo.errors import GanzooError

    broken: dict[str, list[str]] = {}
    for registry in found.by_kind.values():
        for component in registry:
            try:
                component.load_factory()
            except GanzooError as err:
                broken.setdefault(component.plugin, []).append(str(err))
    return broken


def show_recipes(args: argparse.Namespace) -> int:
    from ganzoo.recipe.load import read_toml, shipped_recipes

    rows = []
    for name, path in shipped_recipes().items():
        raw = read_toml(path)
        rows.append({"name": name, "description": str(raw.get("description", "")), "path": str(path)})
    if args.json:
        render.emit_json(rows)
        return 0
    render.table("Shipped recipes (ganzoo run NAME)", ["name", "description"], [[r["name"], r["description"]] for r in rows])
    return 0
