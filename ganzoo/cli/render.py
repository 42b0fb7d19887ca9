"""Output helpers shared by the commands: rich tables for people, JSON for programs."""

from __future__ import annotations

import json
import sys
from typing import Any


def console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def table(title: str, columns: list[str], rows: list[list[str]], *, wrap_last: bool = False) -> None:
    """A rich table; ``wrap_last`` gives the last column (free text) the room the others leave, wrapped at
    word boundaries, and sets the width to :func:`text_width` so a pipe gets the same layout as a terminal."""
    from rich.table import Table

    out = Table(title=title, title_justify="left")
    for index, column in enumerate(columns):
        last = wrap_last and index == len(columns) - 1
        out.add_column(column, overflow="fold", ratio=1 if last else None, min_width=20 if last else None,
                       no_wrap=wrap_last and index == 0)
    for row in rows:
        out.add_row(*row)
    shown = console()
    if wrap_last:
        shown.width = max(text_width(), 80)
    shown.print(out)


def text_width() -> int:
    """Columns to lay text out in: the terminal's (or $COLUMNS), at least 60 so a narrow or unknown width
    never leaves a word a line, at most 120 for reading."""
    import shutil

    return max(60, min(120, shutil.get_terminal_size((80, 24)).columns))


def write_lines(lines: list[str]) -> None:
    sys.stdout.write("".join(line + "\n" for line in lines))


def emit_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def warn(message: str) -> None:
    print(f"ganzoo: warning: {message}", file=sys.stderr)


def wrap(text: str, width: int, indent: str = "") -> list[str]:
    """``text`` wrapped at word boundaries, never ending on a line that holds one word alone (the word before
    it comes down too): a description reads as a sentence, not a word list."""
    import textwrap

    lines = textwrap.wrap(text, width=width, initial_indent=indent, subsequent_indent=indent,
                          break_long_words=False, break_on_hyphens=False)
    if len(lines) > 1 and len(lines[-1].split()) == 1 and len(lines[-2].split()) > 2:
        head, _, moved = lines[-2].rpartition(" ")
        lines[-2:] = [head, f"{indent}{moved} {lines[-1].strip()}"]
    return lines
