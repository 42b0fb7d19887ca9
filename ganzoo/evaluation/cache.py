"""Where evaluation keeps what it trains once and reuses (classifiers): ``$GANZOO_CACHE`` or
``~/.cache/ganzoo``. An environment variable rather than a fixed path so tests, CI and shared machines can
point it at a folder of their own."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from ganzoo.errors import GanzooError

ENV = "GANZOO_CACHE"


def cache_dir() -> Path:
    """The cache root (not created here: a metric creates the sub-folder it writes to)."""
    configured = os.environ.get(ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "ganzoo"


def _named(folder: Path) -> str:
    return f"{ENV}={os.environ[ENV]}" if os.environ.get(ENV, "").strip() else f"the cache folder {folder}"


def check_writable(folder: Path) -> None:
    """``folder`` (under the cache) exists as a folder or can be made, and can be written: checked before
    the work whose result goes there, one line naming ``GANZOO_CACHE`` otherwise."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        if existing.is_symlink():  # a dangling link: nothing can be made through it
            break
        existing = existing.parent
    if not existing.is_dir():
        raise GanzooError(f"{_named(folder)}: {existing} is not a folder; point {ENV} at a folder (or unset it)")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise GanzooError(f"{_named(folder)}: {existing} is not writable; point {ENV} at a folder you can write")


def write_failed(path: Path, err: OSError) -> GanzooError:
    """One line for a cache file that could not be written (a full disk, say); nothing half-written stays."""
    reason = err.strerror or os.strerror(err.errno or errno.EIO)
    return GanzooError(f"{_named(path.parent)}: cannot write {path.name}: {reason}; free space or point {ENV} "
                       "at another folder")
