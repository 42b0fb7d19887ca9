"""How long ganzoo takes to start: ``import ganzoo``, ``ganzoo --help``, ``ganzoo list`` and friends, each in
fresh processes.

    python benchmarks/startup.py            # 15 runs of each, median
    python benchmarks/startup.py -n 30 --json startup.json

Every run is a new interpreter, so nothing is cached in Python between runs (the operating system's file
cache is warm after the first run: the first run of each command is reported on its own as "first").
``python -c pass`` is the floor that no Python program goes below. The console script is the one
installed beside this interpreter (``<prefix>/bin/ganzoo``), not a version manager's shim in front of it,
which would add its own start-up to every figure. For each command the script also says whether torch was
imported (listing, validating and ``--help`` should never need it) and the modules slowest to import
(their own time), from one run under ``-X importtime``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))


def console_script() -> list[str]:
    beside = Path(sys.executable).parent / "ganzoo"
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("ganzoo")
    return [found] if found else [sys.executable, "-m", "ganzoo.cli.main"]


def commands() -> dict[str, list[str]]:
    cli = console_script()
    py = [sys.executable]
    return {
        "python -c pass": [*py, "-c", "pass"],
        "import ganzoo": [*py, "-c", "import ganzoo"],
        "ganzoo --help": [*cli, "--help"],
        "ganzoo version": [*cli, "version"],
        "ganzoo list": [*cli, "list"],
        "ganzoo recipes": [*cli, "recipes"],
        "ganzoo validate cdcgan-digits": [*cli, "validate", "cdcgan-digits"],
    }


def once(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return elapsed


def imports(argv: list[str], env: dict[str, str], top: int) -> tuple[bool, list[tuple[str, float]]]:
    """Whether torch was imported, and the ``top`` modules slowest to import (their own time, in ms, without
    the modules they import in turn)."""
    done = subprocess.run(argv, env={**env, "PYTHONPROFILEIMPORTTIME": "1"}, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        own, _, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        if own.isdigit():
            rows.append((name, int(own) / 1000))
    torch = any(name == "torch" for name, _ in rows)
    return torch, sorted(rows, key=lambda r: -r[1])[:top]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=15, help="runs of each command (default 15)")
    parser.add_argument("--top", type=int, default=3, help="slowest imports shown per command (default 3)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    from overhead import machine  # imports torch, which is fine here: the timed runs are other processes

    env = {k: v for k, v in os.environ.items() if not k.startswith("GANZOO_")}
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    info = machine()
    print(f"{info['date']}  {info['machine']}  python {info['python']}  ganzoo {info['ganzoo']}  "
          f"load {info['loadavg']}")
    print(f"console script: {console_script()[0]}")
    table = commands()
    times: dict[str, list[float]] = {name: [] for name in table}
    first = {name: once(cmd, env) for name, cmd in table.items()}
    for _ in range(args.n):  # round robin: load from other jobs falls on every command alike
        for name, cmd in table.items():
            times[name].append(once(cmd, env))
    print(f"\n{'command':32} {'median ms':>9} {'min ms':>7} {'first ms':>8}  torch?  slowest imports (own ms)")
    rows = []
    for name, cmd in table.items():
        torch_imported, slow = imports(cmd, env, args.top)
        median, fastest = 1e3 * statistics.median(times[name]), 1e3 * min(times[name])
        rows.append({"command": name, "argv": cmd, "median_ms": median, "min_ms": fastest,
                     "first_ms": 1e3 * first[name], "runs": args.n, "imports_torch": torch_imported,
                     "slowest_imports_ms": slow})
        slow_text = ", ".join(f"{mod} {ms:.0f}" for mod, ms in slow)
        print(f"{name:32} {median:>9.0f} {fastest:>7.0f} {1e3 * first[name]:>8.0f}  "
              f"{'yes' if torch_imported else 'no':6}  {slow_text}", flush=True)
    info["loadavg_after"] = [round(v, 2) for v in os.getloadavg()]
    print(f"\nload average after: {info['loadavg_after']}")
    if args.json:
        args.json.write_text(json.dumps({**info, "results": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
