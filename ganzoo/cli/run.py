"""``ganzoo run RECIPE``: train what a recipe describes, into a run directory."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ganzoo.cli.validate import add_overrides
from ganzoo.errors import GanzooError
from ganzoo.run_folder import RunFolder


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("run", help="train a GAN from a recipe file or shipped recipe name")
    parser.add_argument("recipe", nargs="?", metavar="RECIPE",
                        help="recipe file or shipped name (see `ganzoo recipes`); with --resume, defaults to "
                             "the run's own recipe.toml")
    add_overrides(parser)
    parser.add_argument("--out", type=Path, metavar="DIR", help="run directory (default: runs/NAME-TIMESTAMP)")
    parser.add_argument("--resume", type=Path, metavar="RUN_DIR", help="continue a run from its last checkpoint")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ganzoo.recipe import load_recipe

    if args.resume is not None and args.out is not None:
        raise GanzooError("--out and --resume both name the run directory; give one")
    recipe_arg = args.recipe
    if recipe_arg is None:
        if args.resume is None:
            raise GanzooError("give a RECIPE (a file, or a shipped name from `ganzoo recipes`)")
        recipe_arg = RunFolder(args.resume).recipe
        if not recipe_arg.is_file():
            raise GanzooError(f"{args.resume}: not a ganzoo run directory (no {recipe_arg.name})")
    from ganzoo.recipe.load import check_data

    recipe = check_data(load_recipe(recipe_arg, args.overrides))  # every check before torch is imported

    from ganzoo.api import default_run_dir, run_recipe
    from ganzoo.training.distributed import launched_rank

    if args.resume is None and args.out is None:  # chosen here, so an interrupted run can say where it is
        args.out = default_run_dir(recipe)  # (several processes: the main process's choice is used)
    main_process = launched_rank() == 0  # started by torchrun or accelerate launch: the others say nothing
    try:
        result = run_recipe(recipe, out=args.out, resume=args.resume, quiet=args.quiet)
    except KeyboardInterrupt as stop:  # the one message of a Ctrl-C (the trainer only says where it stopped)
        if not main_process:
            return 130  # interrupted, as the main process reports
        where = args.resume or args.out
        what = str(stop) or "interrupted"  # "interrupted at step N; checkpoint saved" from the trainer
        hint = f"; resume with: ganzoo run --resume {where}" if where else ""
        print(f"ganzoo: {what}{hint}", file=sys.stderr)
        return 130
    if not args.quiet and main_process:
        print(f"done: {result.step} steps; run directory {result.run_dir}")
    return 0
