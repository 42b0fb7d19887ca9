"""What the trainer shows the code hooked into it: callbacks get a :class:`StepView` after each step, observers
see every logged row and every written sample grid.

Callbacks read a small typed view instead of the whole trainer, so that the trainer's insides can change
without breaking them (periodic evaluation, a test that interrupts a run at step 2, a plugin's hook).
Observers are where experiment trackers hook in: every row that goes into metrics.jsonl and every grid that
goes into samples/ passes through them, on the main process.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import attrs
import torch
from torch import nn

from ganzoo.run_folder import RunFolder
from ganzoo.weights import ModelCard


@attrs.frozen
class StepView:
    """The run as a callback sees it right after generator step ``step`` of ``total``.

    ``generator`` is the one to sample from (the EMA copy when there is one); ``log_row(row)`` appends figures
    (an evaluation's, say) to metrics.jsonl under this step; ``run_folder`` is None when the trainer writes no
    files; ``card`` is the generator's :class:`~ganzoo.weights.ModelCard` when the trainer was given one.
    """

    step: int
    total: int
    generator: nn.Module
    log_row: Callable[[dict[str, Any]], None]
    run_folder: RunFolder | None
    device: torch.device
    is_main_process: bool
    card: ModelCard | None


Callback = Callable[[StepView], None]


class Observer(Protocol):
    """Sees what the run writes (main process only); any method may be left out."""

    def on_row(self, row: dict[str, Any]) -> None:
        """A row of figures, as appended to metrics.jsonl (``step`` included)."""

    def on_samples(self, step: int, path: Path, samples: torch.Tensor) -> None:
        """A sample grid written to ``path`` from ``samples`` (G's output on the fixed noise)."""

    def on_start(self, step: int) -> None:
        """A ``fit()`` begins at ``step`` (above 0: a resumed run; an experiment tracker reopens its run)."""

    def on_end(self) -> None:
        """A ``fit()`` ended (finished, interrupted or failed): flush and close."""
