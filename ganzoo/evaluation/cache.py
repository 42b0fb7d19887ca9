"""Where evaluation keeps what it trains once and reuses (classifiers): ``$GANZOO_CACHE`` or
``~/.cache/ganzoo``. An environment variable rather than a fixed path so tests, CI and shared machines can
point it at a folder of their own."""

from __future__ import annotations

import os
from pathlib import Path

ENV = "GANZOO_CACHE"


def cache_dir() -> Path:
    """The cache root (not created here: a metric creates the sub-folder it writes to)."""
    configured = os.environ.get(ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "ganzoo"
