"""``ganzoo validate RECIPE...``: check recipes without importing torch or touching data."""

from __future__ import annotations

import argparse
import sys

from ganzoo.errors import GanzooError


def add_overrides(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="override a recipe field, e.g. --set train.steps=100 (repeatable)",
    )


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("validate", help="check recipe files; exit 2 on the first bad field of each")
    parser.add_argument("recipes", nargs="+", metavar="RECIPE", help="recipe files or shipped recipe names")
    add_overrides(parser)
    parser.add_argument("--skip-data", action="store_true",
                        help="check the recipes alone, not whether the data files they name are present")
    parser.set_defaults(handler=validate)


def validate(args: argparse.Namespace) -> int:
    from ganzoo.recipe import load_recipe
    from ganzoo.recipe.load import check_data

    failed = 0
    for arg in args.recipes:
        try:
            recipe = load_recipe(arg, args.overrides)
            if not args.skip_data:
                check_data(recipe)
        except GanzooError as err:
            failed += 1
            print(f"ganzoo: error: {err}", file=sys.stderr)
            continue
        kind = ("conditional " if recipe.conditional
                else f"self-conditioned ({recipe.header.clusters} clusters) " if recipe.header.clusters else "")
        print(
            f"ok: {recipe.source}: {kind}{recipe.generator.name}/{recipe.discriminator.name} GAN, "
            f"loss {recipe.loss.name}, data {recipe.data.name} {list(recipe.data_info.shape)}"
        )
    return 2 if failed else 0
