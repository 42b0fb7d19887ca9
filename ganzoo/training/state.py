"""Where a run stands, as a checkpoint keeps it: the objects whose state resuming needs, and the time trained.

:class:`TrainingState` holds the trainer's stateful parts (G, D, both optimisers, the data position, the EMA
copy, an adaptive augmentation's probability) and the random streams, so that the trainer's file stays the
loop; the trainer keeps its step counter and hands it in. How a checkpoint is stored on disk is
:mod:`~ganzoo.training.checkpoint`'s business, where and when :mod:`~ganzoo.training.outputs`'.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
from torch import nn

from ganzoo.errors import GanzooError
from ganzoo.training.streams import NoiseStreams


@attrs.define
class WallClock:
    """Seconds spent training, across fit() calls and resumes (a resumed run goes on from its checkpoint's)."""

    offset: float = 0.0
    started: float | None = None

    def start(self) -> None:
        self.started = time.perf_counter()

    def seconds(self) -> float:
        return self.offset + (0.0 if self.started is None else time.perf_counter() - self.started)

    def lap(self) -> None:
        """Fold the time since ``start`` into the offset: a later fit() counts on from here."""
        self.offset, self.started = self.seconds(), time.perf_counter()


@attrs.define
class TrainingState:
    """What a checkpoint holds, besides the step. ``adaptive``: an augmentation that adapts (ADA), whose
    state is stored only when it has one; ``world``: how many processes train (a resume on another count
    is allowed but said)."""

    generator: nn.Module
    discriminator: nn.Module
    opt_g: Any
    opt_d: Any
    batches: Any
    streams: NoiseStreams
    world: int
    ema: Any = None
    adaptive: Any = None
    clock: WallClock = attrs.Factory(WallClock)

    def weights(self) -> dict[str, nn.Module]:
        """The models a run's weights files hold, by role."""
        roles = {"generator": self.generator, "discriminator": self.discriminator}
        return roles if self.ema is None else {**roles, "generator-ema": self.ema.module}

    def parts(self) -> dict[str, Any]:
        """What a checkpoint holds the state of, by key."""
        parts = {"generator": self.generator, "discriminator": self.discriminator, "opt_g": self.opt_g,
                 "opt_d": self.opt_d, "batches": self.batches}
        if self.ema is not None:
            parts["ema"] = self.ema
        if self.adaptive is not None and self.adaptive.state_dict():  # an empty state is not stored
            parts["augment"] = self.adaptive
        return parts

    def modules(self) -> list[nn.Module]:
        """The stateful parts that are modules: those whose buffers the processes agree on at the end."""
        return [part for part in self.parts().values() if isinstance(part, nn.Module)]

    def state_dict(self, step: int) -> dict[str, Any]:
        """Everything resuming at ``step`` needs, this process's random streams included."""
        parts = {key: part.state_dict() for key, part in self.parts().items()}
        return {"step": step, "wall_s": self.clock.seconds(), **parts, "rng": self.streams.state_dict(),
                "processes": self.world}

    def load_state_dict(self, state: dict[str, Any]) -> int:
        """Load ``state`` into the parts (a checkpoint from before EMA or ADA lacks theirs); returns its step."""
        step, self.clock.offset = int(state["step"]), float(state["wall_s"])
        for key, part in self.parts().items():
            if key not in ("ema", "augment") or key in state:
                part.load_state_dict(state[key])
        self.streams.load_state_dict(state["rng"])
        return step


@contextlib.contextmanager
def fitting(path: Path) -> Iterator[None]:
    """Loading the checkpoint at ``path`` into models or optimisers it was not written for (another recipe's,
    say) is the user's mistake: a one-line error naming the file, not torch's traceback."""
    try:
        yield
    except (RuntimeError, KeyError, ValueError, TypeError) as err:
        first = " ".join(line.strip() for line in str(err).strip().splitlines()[:2]) or type(err).__name__
        raise GanzooError(f"{path}: the checkpoint does not fit these models or optimisers ({first}); "
                          "resume with the run's own recipe") from None
