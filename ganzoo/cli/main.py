"""The ``ganzoo`` command: a thin argparse front over the library.

Each sub-command lives in its own module with ``add_parser(subparsers)``; heavy imports (torch) happen
inside the handlers, so ``ganzoo --help``, ``list`` and ``validate`` start fast. Exit codes: 0 success,
2 bad input (recipe, arguments, files; one line, no traceback), 1 internal error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ganzoo.__about__ import __version__
from ganzoo.errors import GanzooError

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own exit code for bad arguments is already 2
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"ganzoo: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from ganzoo.cli import evaluate, export, info, new_plugin, report, run, sample, validate

    parser = _Parser(
        prog="ganzoo",
        description="A plugin-based GAN zoo: train GANs from recipe files, sample and evaluate them.",
        epilog="Start with: ganzoo recipes; ganzoo run cdcgan-digits",
    )
    parser.add_argument("--version", action="version", version=f"ganzoo {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in (run, sample, evaluate, report, export, validate, info, new_plugin):
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_OK
    try:
        return int(args.handler(args) or EXIT_OK)
    except GanzooError as err:
        print(f"ganzoo: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("ganzoo: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `ganzoo list | head`
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
