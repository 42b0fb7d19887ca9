"""``ganzoo new-plugin NAME [--dir DIR]``: write a ready-to-edit plugin package that installs and tests as is."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "new-plugin",
        help="write a ready-to-edit plugin package (pyproject with the entry point, a generator, a regulariser, tests)",
        description="Write a plugin package: pyproject.toml with the `ganzoo` entry point, one generator with "
                    "an options class, one regulariser of D, and tests that use the ganzoo_plugin fixture. NAME is the "
                    "distribution name, e.g. ganzoo-tiny-gan (module ganzoo_tiny_gan, component tiny-gan).",
    )
    parser.add_argument("name", metavar="NAME", help="letters, digits, '-' and '_', starting with a letter")
    parser.add_argument("--dir", type=Path, metavar="DIR",
                        help="folder to create, missing or empty (default: ./NAME)")
    parser.set_defaults(handler=new_plugin)


def new_plugin(args: argparse.Namespace) -> int:
    from ganzoo.scaffold import write_plugin

    names, target, written = write_plugin(args.name, args.dir)
    print(f"created plugin {names.short!r} (distribution {names.distribution}, module {names.module}) in {target}:")
    for path in written:
        print(f"  {path.relative_to(target).as_posix()}")
    print("next:")
    print(f"  cd {target} && pip install -e \".[test]\" && pytest")
    print(f"  ganzoo list generators    # shows {names.short!r}")
    return 0
