"""``ganzoo version``, ``list``, ``plugins`` and ``recipes``: what is installed and what it offers."""

from __future__ import annotations

import argparse
import platform
import sys

from ganzoo.__about__ import __version__
from ganzoo.cli import render

KIND_ARGS = {"generators": "generator", "discriminators": "discriminator", "losses": "loss",
             "datasets": "dataset", "metrics": "metric", "regularizers": "regularizer", "augments": "augment"}
SHOW_KINDS = {**KIND_ARGS, **{kind: kind for kind in KIND_ARGS.values()}}  # `show dataset` or `show datasets`
RECIPE_SECTION = {"generator": "generator", "discriminator": "discriminator", "loss": "loss", "dataset": "data",
                  "regularizer": "regularizer", "augment": "augment"}


def add_parser(sub: argparse._SubParsersAction) -> None:
    version = sub.add_parser("version", help="print ganzoo's version")
    version.set_defaults(handler=show_version)

    listing = sub.add_parser("list", help="list registered components")
    listing.add_argument("kind", nargs="?", choices=list(KIND_ARGS), help="only this kind")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=show_list)

    show = sub.add_parser("show", help="one component's options: type, default, range, help")
    show.add_argument("kind", choices=list(SHOW_KINDS), metavar="KIND",
                      help="generator, discriminator, loss, dataset or metric")
    show.add_argument("name", metavar="NAME", help="its registered name (see `ganzoo list`)")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(handler=show_component)

    plugins = sub.add_parser("plugins", help="list plugins, what they registered and load errors")
    plugins.add_argument("--json", action="store_true", help="machine-readable output")
    plugins.add_argument("--check", action="store_true",
                         help="also build every component with its default options and hold it to its "
                         "contract (ganzoo.contracts; imports torch); exit 2 if any fails")
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
    render.write_lines(listing_lines(components, render.text_width()))
    return 0


def listing_lines(components, width: int) -> list[str]:
    """Each kind under its heading; per component one line (name, plugin, what it fits) and its description
    wrapped beneath: readable at any width, piped or not (a table squeezes the description to a word a line)."""
    lines: list[str] = []
    kind = None
    for c in components:
        if c.kind != kind:
            kind = c.kind
            lines += ([""] if lines else []) + [f"{PLURAL_OF[kind]}:"]
        facts = [f"plugin {c.plugin}"]
        if c.kind in ("generator", "discriminator"):
            facts += [f"data {'/'.join(c.data_kinds)}", "conditional or not" if c.conditional else "unconditional"]
        lines.append(f"  {c.name}  ({', '.join(facts)})")
        lines += render.wrap(c.description or "-", width, "      ")
    lines += ["", "Options of one: ganzoo show KIND NAME (e.g. ganzoo show dataset image-folder)"]
    return lines


PLURAL_OF = {kind: plural for plural, kind in KIND_ARGS.items()}


def show_component(args: argparse.Namespace) -> int:
    from ganzoo.options import describe_options
    from ganzoo.registry import registries

    found = registries()
    kind = SHOW_KINDS[args.kind]
    component = found.component(kind, args.name)  # an unknown name: one line with the closest ones
    options = describe_options(component.options)
    if args.json:
        render.emit_json({"kind": kind, "name": component.name, "plugin": component.plugin,
                          "description": component.description, "options": options})
        return 0
    print(f"{kind} {component.name} (plugin {component.plugin})")
    render.write_lines(render.wrap(component.description, render.text_width(), "  "))
    if not options:
        print("\nNo options.")
        _recipe_line(kind, component)
        return 0
    rows = [[o["name"], _short_type(o["type"]), "(required)" if o["required"] else _default(o["default"]),
             o["range"], o["help"]] for o in options]
    render.table("Options", ["option", "type", "default", "range", "help"], rows, wrap_last=True)
    _recipe_line(kind, component)
    return 0


def _recipe_line(kind: str, component) -> None:
    """How the component is written in a recipe (a regulariser is an entry of a list, with its schedule),
    and what it provides to or needs from the others."""
    if callable(component.provides):
        print("Provides: auxiliary outputs that depend on its options (see its description)")
    elif component.provides:
        print(f"Provides: {', '.join(component.provides)}")
    for role in ("discriminator", "generator"):
        names = component.needs.get(role)
        if names:
            print(f"Needs from the {role}: {', '.join(names)}")
    if component.needs.real_logits:
        print("Needs D's logits on reals in G's step (a relativistic loss)")
    section = RECIPE_SECTION.get(kind)
    if kind == "regularizer":
        print(f"In a recipe: [[regularizer]] name = \"{component.name}\", weight = W (default 1), every = N "
              "(default 1: every critic step), then any option above as KEY = VALUE.")
    elif section:
        print(f"In a recipe: [{section}] name = \"{component.name}\", then any option above as KEY = VALUE.")
    else:
        print(f"In a recipe: [eval] metrics = [\"{component.name}\"]; ganzoo eval RUN --metric {component.name}")


def _short_type(text: str) -> str:
    return text.removeprefix("an ").removeprefix("a ")


def _default(value) -> str:
    import json

    return json.dumps(value) if isinstance(value, (str, list, bool)) or value is None else f"{value:g}" \
        if isinstance(value, float) else str(value)


def show_plugins(args: argparse.Namespace) -> int:
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
    render.write_lines(plugin_lines(found.plugins, broken, render.text_width()))
    if not args.check:
        return 0
    failures = [record.error for record in found.failures()] + [line for lines in broken.values() for line in lines]
    for line in failures:
        print(f"ganzoo: error: {line}", file=sys.stderr)
    return 2 if failures else 0


def plugin_lines(records, broken: dict[str, list[str]], width: int) -> list[str]:
    """One line per plugin (name, distribution and version, status), what it registered and any error wrapped
    beneath: the same layout as ``ganzoo list``, readable at 80 columns and through a pipe."""
    lines = ["Plugins (entry-point group 'ganzoo'):"]
    for record in records:
        problems = [record.error] if record.error else broken.get(record.name, [])
        lines.append(f"  {record.name}  ({record.distribution} {record.version})  {'FAILED' if problems else 'ok'}")
        for kind, names in record.registered.items():
            lines += render.wrap(f"{kind}: {', '.join(names)}", width, "      ")
        for problem in problems:
            lines += render.wrap(f"failed: {problem}", width, "      ")
    return lines


def check_factories(found) -> dict[str, list[str]]:
    """Every registered component built and held to its contract; the failures (one line each) by plugin."""
    from ganzoo.conformance import problems

    broken: dict[str, list[str]] = {}
    for registry in found.by_kind.values():
        for component in registry:
            for problem in problems(component):
                broken.setdefault(component.plugin, []).append(problem)
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
