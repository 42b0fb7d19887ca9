"""``metrics.jsonl``: the one writer and the one reader of a run's figures, one JSON object per line.

Rows are appended and flushed as training goes, so a crash (or a full disk) can leave the last line cut
off mid-write. The reader is tolerant: a line that is not a JSON object is dropped, and ``note`` (when
given) is told which, so that a resume, a report or keep-best reads every row that was written whole.
Torch-free: ``ganzoo report`` reads it without torch.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ganzoo.atomic import write_text_atomic


class MetricsLog:
    """The rows of one ``metrics.jsonl``; ``note(message)`` hears of each line dropped as unreadable."""

    def __init__(self, path: Path, note: Callable[[str], None] | None = None) -> None:
        self.path = Path(path)
        self.note = note

    def append(self, row: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")

    def rows(self) -> list[dict[str, Any]]:
        """Every whole row, in order; a line cut short by a crash (or otherwise unreadable, or a row without an
        integer step) is dropped."""
        if not self.path.is_file():
            return []
        lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
        rows = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                row = None
            if isinstance(row, dict) and type(row.get("step")) is int:
                rows.append(row)
            elif self.note is not None:
                where = "the last line" if number == len(lines) else f"line {number}"
                self.note(f"{self.path}: dropped {where}, not a whole JSON row (cut off mid-write by a crash?)")
        return rows

    def truncate_after(self, step: int) -> None:
        """Keep the whole rows up to ``step``: a resumed run writes the later ones again, so the log never
        shows a step twice (and a cut-off line is gone before new rows are appended after it)."""
        kept = [row for row in self.rows() if row.get("step", 0) <= step]
        write_text_atomic(self.path, "".join(json.dumps(row) + "\n" for row in kept))
