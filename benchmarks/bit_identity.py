"""The behaviour guard's figures: train every shipped recipe for 3 tiny steps and print what is kept.

    python benchmarks/bit_identity.py                       # exact digests, one line per recipe and tensor
    python benchmarks/bit_identity.py --write-fingerprints  # store tests/bit_identity.json (robust figures)
    python benchmarks/bit_identity.py --compare OLD.txt     # exact digests now against a saved printout

The exact digests are for one machine (another CPU rounds the last bits differently): save the printout
before a refactor and ``--compare`` after it. tests/test_bit_identity.py checks the robust fingerprints.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path.insert(0, str(TESTS))
os.environ.setdefault("OMP_NUM_THREADS", "1")

from helpers_bit_identity import digests, fingerprint, train_short  # noqa: E402
from helpers_training import recipe_names  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", nargs="*", help="default: every shipped recipe")
    parser.add_argument("--write-fingerprints", action="store_true", help="store tests/bit_identity.json")
    parser.add_argument("--compare", type=Path, help="a printout of this script to compare the digests with")
    args = parser.parse_args()
    lines, prints = [], {}
    for name in args.recipes or recipe_names():
        with tempfile.TemporaryDirectory() as tmp:
            run = train_short(name, Path(tmp) / "run")
        prints[name] = fingerprint(run)
        for key, digest in digests(run).items():
            lines.append(f"{name} {key} {digest}")
            print(lines[-1], flush=True)
    if args.write_fingerprints:  # --recipes: those recipes' entries replaced, the others kept
        stored = TESTS / "bit_identity.json"
        kept = json.loads(stored.read_text()) if args.recipes and stored.is_file() else {}
        stored.write_text(json.dumps({**kept, **prints}, indent=1, sort_keys=True) + "\n")
    if args.compare is not None:
        before = set(args.compare.read_text().split("\n")) - {""}
        changed = sorted(set(lines) ^ before)
        print(f"{len(lines)} digests; {len(changed)} lines differ from {args.compare}")
        for line in changed:
            print(f"  {line}")
        return 1 if changed else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
