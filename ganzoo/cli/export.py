"""``ganzoo export RUN_DIR DIR``: a run as a folder a Hugging Face model repository holds as it is."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("export", help="write a Hub-ready folder of a run: generator, model card, recipe, grid")
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    parser.add_argument("out", type=Path, metavar="DIR", help="a new (or empty) folder")
    parser.add_argument("--license", default="mit", metavar="ID",
                        help="the weights' licence as the Hub spells it (default mit; apache-2.0, cc-by-4.0, other...)")
    parser.add_argument("--repo-id", metavar="USER/NAME",
                        help="the Hub repository it will live in, for the card's sampling commands")
    parser.add_argument("--eval", dest="eval_file", type=Path, metavar="FILE",
                        help="figures from `ganzoo eval --json` (default: the run's last evaluation in metrics.jsonl)")
    parser.set_defaults(handler=export)


def export(args: argparse.Namespace) -> int:
    from ganzoo.export import export_run

    out = export_run(args.run_dir, args.out, license=args.license, repo_id=args.repo_id, eval_file=args.eval_file)
    files = ", ".join(sorted(p.name for p in out.iterdir()))
    print(f"wrote {out}: {files} (upload it as it is: huggingface-cli upload USER/NAME {out})")
    return 0
