"""What D sees in G's step: the choice of its inputs, as a pure function of the option and the models.

A D with BatchNorm normalises each forward by its batch's statistics, so G's step has to choose what sits
in the batch beside the fakes (``train.g_step_batchnorm``):

- ``fresh-reals``: a fresh real batch beside the fakes, as in D's own step (D's statistics are those of a
  real+fake mix); reads a second real batch per step and puts twice the images through D.
- ``reused-reals``: the D step's last real batch beside the fakes: the same mix, no second read.
- ``fakes``: the fakes alone (batch statistics of fakes only; half the images through D).
- ``eval``: the fakes alone with D in eval mode (its running statistics, no dropout), so G's loss does not
  depend on which other fakes share the batch.

A loss that compares fakes with reals (``needs_real_logits``, relativistic losses) always gets reals:
reused under ``reused-reals``, fresh otherwise, and D stays in train mode for them (under ``eval`` too: the
reals and fakes then share batch statistics, as in D's own step). A D without BatchNorm sees the fakes
alone unless the loss needs reals. Which of these is the default was decided by measurement (benchmarks/RESULTS.md).

Which fakes G's step trains on is a second choice (``train.g_step_fakes``): ``fresh`` draws new z and
labels, as Algorithm 1 does; ``shared`` takes the last critic step's z, labels and fakes, made with G's graph
kept, so that a step runs G forward once instead of twice (pytorch/examples' DCGAN does the same). With
gradient accumulation the fakes stay fresh: keeping one graph per micro-batch would undo what accumulation
saves in memory. :func:`keeps_fakes` says at which critic step the trainer keeps them.
"""

from __future__ import annotations

from typing import Literal

import attrs

GStepMode = Literal["fresh-reals", "reused-reals", "fakes", "eval"]
G_STEP_MODES: tuple[str, ...] = ("fresh-reals", "reused-reals", "fakes", "eval")


@attrs.frozen
class GStepInputs:
    """``reals``: None (fakes alone), "fresh" (a new batch) or "reused" (the D step's last one);
    ``eval_mode``: whether D runs in eval mode on the fakes alone (never with reals beside them)."""

    reals: Literal["fresh", "reused"] | None
    eval_mode: bool


def g_step_inputs(mode: str, *, d_has_batchnorm: bool, loss_needs_reals: bool) -> GStepInputs:
    """The D inputs of G's step for ``mode`` (one of :data:`G_STEP_MODES`)."""
    if mode not in G_STEP_MODES:
        raise ValueError(f"g_step_batchnorm must be one of {', '.join(G_STEP_MODES)}, not {mode!r}")
    batchnorm_wants_reals = d_has_batchnorm and mode in ("fresh-reals", "reused-reals")
    reals = None
    if batchnorm_wants_reals or loss_needs_reals:
        reals = "reused" if mode == "reused-reals" else "fresh"
    return GStepInputs(reals=reals, eval_mode=reals is None and d_has_batchnorm and mode == "eval")


def keeps_fakes(mode: str, *, critic_step: int, d_steps: int, grad_accum: int) -> bool:
    """Whether critic step ``critic_step`` (0-based, of ``d_steps``) keeps its fakes, G's graph and all, for
    G's step: under ``train.g_step_fakes = "shared"`` the last one does, unless gradients are accumulated."""
    return mode == "shared" and grad_accum == 1 and critic_step == d_steps - 1
