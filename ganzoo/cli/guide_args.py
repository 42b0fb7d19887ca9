"""The D-guided sampling options that ``ganzoo sample`` and ``ganzoo eval`` share."""

from __future__ import annotations

import argparse
from typing import Any

from ganzoo.errors import GanzooError

# ganzoo.guided.guided_generator's own defaults (tests/test_guided.py holds the two together; that module
# imports torch, which --help must not)
DEFAULT_QUANTILE = 0.5
DEFAULT_STEPS = 20
MAX_STEPS = 10_000  # proposals per chain: each is a generator and a discriminator pass per sample
MAX_SEED = 2**32 - 1  # the guide seeds its calibration and proposal streams from the seed plus offsets


def add_guide_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    """``--guide`` and the two knobs of its methods; ``what`` says what the guide changes for this command."""
    parser.add_argument("--guide", choices=["drs", "mh"],
                        help=f"{what}: drs = rejection sampling (Azadi et al. 2019), mh = Metropolis-Hastings "
                             "(Turner et al. 2019), both with the run's discriminator.safetensors")
    parser.add_argument("--guide-quantile", type=float, default=DEFAULT_QUANTILE, metavar="Q",
                        help="drs: the burn-in quantile of D's score that sets the acceptance shift; higher "
                             f"keeps fewer, better-rated samples (default {DEFAULT_QUANTILE}, in [0, 1))")
    parser.add_argument("--guide-steps", type=int, default=DEFAULT_STEPS, metavar="N",
                        help=f"mh: proposals in each sample's chain (default {DEFAULT_STEPS})")


def check_guide_arguments(args: argparse.Namespace) -> None:
    """The guide's flags within their bounds, each named in one line (before torch is imported)."""
    if not (0.0 <= args.guide_quantile < 1.0):  # a nan fails this too
        raise GanzooError(f"--guide-quantile {args.guide_quantile}: must be in [0, 1)")
    if not 1 <= args.guide_steps <= MAX_STEPS:
        raise GanzooError(f"--guide-steps {args.guide_steps}: must be between 1 and {MAX_STEPS}")
    if args.guide and not 0 <= args.seed <= MAX_SEED:
        raise GanzooError(f"--seed {args.seed}: with --guide, must be between 0 and {MAX_SEED}")


def guide_options(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of :func:`ganzoo.guided.guided_generator` that the command line chose."""
    return {"quantile": args.guide_quantile, "steps": args.guide_steps}


def guide_summary(args: argparse.Namespace, generator: Any) -> dict[str, Any] | None:
    """What a report records of the guide: the method, the one knob it uses, and the share of proposals
    it accepted while drawing the samples (the price of the better samples); None when unguided."""
    if not args.guide:
        return None
    knob = {"quantile": args.guide_quantile} if args.guide == "drs" else {"steps": args.guide_steps}
    accepted = generator.accepted / max(1, generator.proposed)
    return {"method": args.guide, **knob, "accepted": round(accepted, 4)}
