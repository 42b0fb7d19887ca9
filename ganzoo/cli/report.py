"""``ganzoo report RUN_DIR``: one self-contained report.html of a run (images inlined, nothing fetched)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ganzoo.errors import GanzooError


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("report", help="write a self-contained report.html of a run (opens offline)")
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    parser.add_argument("--out", type=Path, metavar="FILE", help="where to write it (default: RUN_DIR/report.html)")
    parser.set_defaults(handler=report)


def report(args: argparse.Namespace) -> int:
    from ganzoo.report import write_report

    if not args.run_dir.is_dir():
        raise GanzooError(f"{args.run_dir}: no such run directory")
    if args.out is not None and args.out.suffix.lower() not in (".html", ".htm"):
        raise GanzooError(f"--out {args.out}: a report is an .html file")
    if args.out is not None and (args.out.is_dir() or args.out.is_symlink()):
        raise GanzooError(f"--out {args.out}: is a folder or a link; name a new or existing .html file")
    try:
        path = write_report(args.run_dir, args.out)
    except OSError as err:
        where = err.filename or args.out or args.run_dir / "report.html"
        raise GanzooError(f"{where}: cannot write the report: {err.strerror or err}") from None
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, self-contained: open it in any browser)")
    return 0
