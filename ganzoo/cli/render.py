"""Output helpers shared by the commands: rich tables for people, JSON for programs."""

from __future__ import annotations

import json
import sys
from typing import Any


def console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def table(title: str, columns: list[str], rows: list[list[str]], *, wrap_last: bool = False,
          whole: tuple[str, ...] = ()) -> None:
    """A rich table; ``wrap_last`` gives the last column (free text) the room the others leave, wrapped at
    word boundaries, at :func:`text_width`; the ``whole`` columns are never folded (names people copy). Into
    a pipe or a file the table is as wide as its longest row: rich would otherwise crop it at 80 columns."""
    from rich.table import Table

    out = Table(title=title, title_justify="left")
    for index, column in enumerate(columns):
        last = wrap_last and index == len(columns) - 1
        out.add_column(column, overflow="fold", ratio=1 if last else None, min_width=20 if last else None,
                       no_wrap=(wrap_last and index == 0) or column in whole)
    for row in rows:
        out.add_row(*row)
    shown = console()
    if wrap_last:
        shown.width = max(text_width(), 80)
    if not shown.is_terminal:  # a pipe or a file: every row whole, however wide (grep sees whole lines)
        from rich.measure import Measurement

        shown.width = max(shown.width, Measurement.get(shown, shown.options.update_width(10_000), out).maximum)
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
