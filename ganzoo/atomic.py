"""Atomic file writes: a temporary file in the same folder, then a rename.

A run interrupted at any moment leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# mkstemp makes its file private (0600); the file put in place gets the mode any new file would (0644
# under the usual umask), so weights and samples stay readable by whoever the user shares them with
_FILE_MODE = 0o666 & ~_current_umask()


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path`` in one rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        yield Path(tmp)
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_atomic(path: str | Path, writer: Callable[[Path], object]) -> Path:
    """Call ``writer(tmp_path)`` and move the result into place.

    A write that fails for want of space or permission raises ``OSError`` (with ``errno`` and the file's
    name), whatever library did the writing: safetensors reports a full disk as its own error type."""
    try:
        with atomic_path(path) as tmp:
            writer(tmp)
    except OSError as err:
        if not err.filename:
            err.filename = str(path)
        raise
    except Exception as err:
        code = _os_error_code(err)
        if code is None:
            raise
        raise OSError(code, os.strerror(code), str(path)) from err
    return Path(path)


def _os_error_code(err: Exception) -> int | None:
    """The errno inside a library's error text (safetensors: ``Os { code: 28, kind: StorageFull ... }``)."""
    text = str(err)
    for code in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EFBIG, errno.EIO):
        if f"code: {code}," in text or f"os error {code})" in text:
            return code
    return None


def write_text_atomic(path: str | Path, text: str) -> Path:
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
