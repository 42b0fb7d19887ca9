"""A run folder checked before any work and locked while a run uses it (its layout: :mod:`ganzoo.run_folder`).

Checks, each one line naming the folder (exit 2): ``--out`` naming a file, a folder that cannot be written,
a folder that holds a finished or resumable run (a fresh run there would mix its files with the old ones),
a ``--resume`` of a folder without a checkpoint. A folder whose run stopped before its first checkpoint
(disk full, interrupted early) holds nothing worth resuming: a fresh run may reuse it, and its stale
``metrics.jsonl`` is cleared so the new log does not show steps twice.

A fresh run takes an existing folder only when it is empty or holds just what a ganzoo run that stopped before
its first checkpoint leaves (each file checked for what ganzoo writes there): a folder holding anything else
is refused, naming what it holds, so no file of the user's is overwritten or deleted. Symbolic links among
the files a run writes (the lock, the logs, ``samples/``, ``checkpoints/``...) are refused: a run writes
inside its folder and nowhere else.

A lock (``.ganzoo.lock``, an ``fcntl`` lock on a file holding the process id) keeps two runs out of one
folder: the second gets one line naming the first one's pid. The operating system drops the lock when its
process dies, however it dies, so a crash never leaves a folder locked. Where ``fcntl`` is missing
(Windows) the lock is skipped.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path

from ganzoo.errors import RunFolderError
from ganzoo.run_folder import CHECKPOINT, WEIGHT_ROLES, RunFolder, latest_checkpoint

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = RunFolder(Path()).lock.name


def _layout(folder: Path | RunFolder) -> RunFolder:
    return folder if isinstance(folder, RunFolder) else RunFolder(folder)


def check_writable(folder: Path) -> None:
    """``folder`` exists as a folder or can be made, and files can be written in it."""
    if folder.exists() and not folder.is_dir():
        raise RunFolderError(f"--out {folder}: is a file, not a folder; name a new or existing folder")
    existing = folder
    while not existing.exists():  # the nearest parent that exists decides whether the folder can be made
        existing = existing.parent
    if not existing.is_dir():
        raise RunFolderError(f"--out {folder}: {existing} is a file, so the folder cannot be made there")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise RunFolderError(f"--out {folder}: {existing} is not writable; choose a folder you can write")


def has_checkpoint(folder: Path | RunFolder) -> bool:
    return latest_checkpoint(_layout(folder).checkpoints) is not None


def holds_results(folder: Path | RunFolder) -> bool:
    """Whether ``folder`` holds a run worth keeping: a checkpoint to resume from or finished weights
    (:meth:`RunFolder.holds_run` also counts a run that stopped before its first checkpoint)."""
    layout = _layout(folder)
    return has_checkpoint(layout) or any(layout.weights(role).exists() for role in WEIGHT_ROLES)


def refuse_links(folder: Path | RunFolder) -> None:
    """No symbolic link where a run writes: following one would write (or, for ``report``, read) a file
    outside the run folder."""
    layout = _layout(folder)
    places = [layout.path / LOCK_NAME, layout.recipe, layout.metrics, layout.curves, layout.quality,
              layout.samples, layout.checkpoints, *(layout.weights(role) for role in WEIGHT_ROLES)]
    for sub in (layout.samples, layout.checkpoints):
        if sub.is_dir() and not sub.is_symlink():
            places.extend(sub.iterdir())
    for path in places:
        if path.is_symlink():
            raise RunFolderError(f"{path}: is a symbolic link; a run folder's files must be its own "
                                 "(ganzoo never writes through a link): remove the link")


def _is_own_leftover(path: Path) -> bool:
    """Whether ``path`` is what a ganzoo run that stopped before its first checkpoint leaves there."""
    layout = RunFolder(path.parent)
    if path.is_symlink():
        return False
    try:
        if path == layout.recipe:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
            return all(isinstance(raw.get(key), dict) for key in ("data", "generator", "discriminator"))
        if path == layout.metrics:
            rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            return all(isinstance(row, dict) and isinstance(row.get("step"), int) for row in rows)
        if path in (layout.curves, layout.quality):
            with path.open("rb") as handle:
                return handle.read(8) == b"\x89PNG\r\n\x1a\n"
        if path == layout.samples:
            return path.is_dir() and all(p.is_file() and p.name.startswith("step-") and p.suffix == ".png"
                                         for p in path.iterdir())
        if path == layout.checkpoints:
            return path.is_dir() and all(p.is_file() and CHECKPOINT.search(p.name) for p in path.iterdir())
        return path.name == LOCK_NAME and stat.S_ISREG(path.lstat().st_mode)
    except (OSError, UnicodeDecodeError, ValueError):  # tomllib's and json's errors are ValueErrors
        return False


def refuse_foreign(folder: Path | RunFolder) -> None:
    """A fresh run takes a folder holding only what an earlier ganzoo run left; anything else is the user's."""
    path = _layout(folder).path
    if not path.is_dir():
        return
    foreign = sorted(p.name for p in path.iterdir() if not _is_own_leftover(p))
    if foreign:
        shown = ", ".join(foreign[:4]) + (f" and {len(foreign) - 4} more" if len(foreign) > 4 else "")
        raise RunFolderError(f"--out {path}: holds files ganzoo did not write ({shown}); nothing was changed: "
                             "choose a new or empty folder")


def prepare_fresh(folder: Path | RunFolder) -> None:
    """Make ``folder`` ready for a fresh run, or say in one line why it cannot be used."""
    layout = _layout(folder)
    check_writable(layout.path)
    refuse_links(layout)
    if holds_results(layout):
        raise RunFolderError(
            f"{layout.path} already holds a run: continue it with --resume {layout.path} (resume= in Python), "
            "or choose another --out"
        )
    refuse_foreign(layout)
    layout.metrics.unlink(missing_ok=True)  # left by a run that stopped before its first checkpoint


def prepare_resume(folder: Path | RunFolder) -> None:
    folder = _layout(folder).path
    if not folder.is_dir():
        raise RunFolderError(f"--resume {folder}: no such run folder")
    check_writable(folder)
    refuse_links(folder)
    if not has_checkpoint(folder):
        raise RunFolderError(
            f"--resume {folder}: no checkpoint yet (the run stopped before its first one); "
            f"start it afresh with --out {folder}"
        )


def write_failed(folder: Path | RunFolder, err: OSError) -> RunFolderError:
    """One line for a write that failed mid-run (disk full, read-only), saying how to go on."""
    folder = _layout(folder).path
    reason = err.strerror or str(err)
    where = f" ({err.filename})" if getattr(err, "filename", None) else ""
    then = (f"resume with: ganzoo run --resume {folder}" if has_checkpoint(folder)
            else f"it holds no checkpoint yet: start afresh with --out {folder}")
    return RunFolderError(f"{folder}: cannot write: {reason}{where}; no file was left half-written; "
                          f"free space or fix permissions, then {then}")


class RunLock:
    """An exclusive lock on a run folder for as long as one run uses it (see the module's docstring)."""

    def __init__(self, folder: Path | RunFolder | str) -> None:
        self.folder = folder.path if isinstance(folder, RunFolder) else Path(folder)
        self.path = RunFolder(self.folder).lock
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        if fcntl is None:  # pragma: no cover
            return self
        self.folder.mkdir(parents=True, exist_ok=True)
        while True:
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as err:
                os.close(fd)
                if err.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
                raise RunFolderError(
                    f"{self.folder} is in use by another ganzoo run (pid {self._holder()}); wait for it to "
                    "finish, or choose another --out"
                ) from None
            try:  # the holder before us may have removed the file while we waited to lock it: lock anew
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def _open(self) -> int:
        """The lock file, never through a link (it would empty and overwrite the file it points to)."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        except OSError as err:
            if err.errno not in (errno.ELOOP, errno.EISDIR, errno.ENXIO, errno.EMLINK):
                raise
            fd = -1
        if fd < 0 or not stat.S_ISREG(os.fstat(fd).st_mode):
            if fd >= 0:
                os.close(fd)
            kind = "a symbolic link" if self.path.is_symlink() else "not a file"
            raise RunFolderError(f"{self.path}: is {kind}; ganzoo keeps its own lock file there: remove it")
        return fd

    def _holder(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8").strip() or "unknown"
        except OSError:
            return "unknown"

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            if os.fstat(self._fd).st_ino == os.lstat(self.path).st_ino:  # ours, not a file put there since
                self.path.unlink()
        os.close(self._fd)  # closing drops the lock
        self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


@contextlib.contextmanager
def using(run: Path | RunFolder, *, resume: bool, main_process: bool = True) -> Iterator[None]:
    """Check ``run`` for a fresh run or a resume, and hold its lock for the ``with`` block (main process
    only: the other processes of a multi-process run write into the folder the main one holds)."""
    folder = _layout(run).path
    if not main_process:  # the same checks, read-only, so every process fails alike (none waits forever)
        if resume:
            prepare_resume(folder)
        elif folder.is_dir() and holds_results(folder):
            prepare_fresh(folder)  # raises
        yield
        return
    if resume and not folder.is_dir():
        raise RunFolderError(f"--resume {folder}: no such run folder")
    check_writable(folder)
    created = not folder.exists()
    lock = RunLock(folder)
    lock.acquire()  # before the checks, so two runs started together cannot both pass them
    try:
        if resume:
            prepare_resume(folder)
        else:
            prepare_fresh(folder)
        yield
    except BaseException:
        lock.release()
        if created:  # nothing of ours in it yet: leave no empty folder behind a run that never started
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    else:
        lock.release()
