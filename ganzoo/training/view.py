"""What the trainer shows the code hooked into it: callbacks get a :class:`StepView` after each step, observers
see every logged row and every written sample grid.

Callbacks read a small typed view instead of the whole trainer, so that the trainer's insides can change
without breaking them (periodic evaluation, a test that interrupts a run at step 2, a plugin's hook).
Observers are where experiment trackers hook in: every row that goes into metrics.jsonl and every grid that
goes into samples/ passes through them, on the main process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import torch
from torch import nn

from ganzoo.contracts import Observer
from ganzoo.run_folder import RunFolder
from ganzoo.weights import ModelCard


@attrs.frozen
class StepView:
    """The run as a callback sees it right after generator step ``step`` of ``total``.

    ``generator`` is the one to sample from (the EMA copy when there is one); ``log_row(row)`` appends figures
    (an evaluation's, say) to metrics.jsonl under this step; ``run_folder`` is None when the trainer writes no
    files; ``card`` is the generator's :class:`~ganzoo.weights.ModelCard` when the trainer was given one,
    ``discriminator`` the critic as it is at this step.
    """

    step: int
    total: int
    generator: nn.Module
    log_row: Callable[[dict[str, Any]], None]
    run_folder: RunFolder | None
    device: torch.device
    is_main_process: bool
    card: ModelCard | None
    #: the discriminator as it is now (outside DDP and compile wrappers), for evaluations that read what D has
    #: learnt (InfoGAN's Q head); a callback that runs it in eval mode puts it back in training mode after
    discriminator: nn.Module | None = None


Callback = Callable[[StepView], None]

__all__ = ["Callback", "Observer", "StepView"]  # Observer: the contract, ganzoo.contracts.Observer
