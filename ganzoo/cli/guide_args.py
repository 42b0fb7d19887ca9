"""The D-guided sampling options that ``ganzoo sample`` and ``ganzoo eval`` share."""

from __future__ import annotations

import argparse
from typing import Any

# ganzoo.guided.guided_generator's own defaults (tests/test_guided.py holds the two together; that module
# imports torch, which --help must not)
DEFAULT_QUANTILE = 0.5
DEFAULT_STEPS = 20


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
