"""Output helpers shared by the commands: rich tables for people, JSON for programs."""

from __future__ import annotations

import json
import sys
from typing import Any


def console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def table(title: str, columns: list[str], rows: list[list[str]], *, whole: tuple[str, ...] = ()) -> None:
    """A rich table; the ``whole`` columns are never folded (names people copy), the others wrap to fit."""
    from rich.table import Table

    out = Table(title=title, title_justify="left")
    for column in columns:
        out.add_column(column, overflow="fold", no_wrap=column in whole)
    for row in rows:
        out.add_row(*row)
    console().print(out)


def emit_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def warn(message: str) -> None:
    print(f"ganzoo: warning: {message}", file=sys.stderr)
