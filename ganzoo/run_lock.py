"""A run folder checked before any work and locked while a run uses it (its layout: :mod:`ganzoo.run_folder`).

Checks, each one line naming the folder (exit 2): ``--out`` naming a file, a folder that cannot be written,
a folder that holds a finished or resumable run (a fresh run there would mix its files with the old ones),
a ``--resume`` of a folder without a checkpoint. A folder whose run stopped before its first checkpoint
(disk full, interrupted early) holds nothing worth resuming: a fresh run may reuse it, and its stale
``metrics.jsonl`` is cleared so the new log does not show steps twice.

A lock (``.ganzoo.lock``, an ``fcntl`` lock on a file holding the process id) keeps two runs out of one
folder: the second gets one line naming the first one's pid. The operating system drops the lock when its
process dies, however it dies, so a crash never leaves a folder locked. Where ``fcntl`` is missing
(Windows) the lock is skipped.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

from ganzoo.errors import RunFolderError
from ganzoo.run_folder import WEIGHT_ROLES, RunFolder, latest_checkpoint

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


def prepare_fresh(folder: Path | RunFolder) -> None:
    """Make ``folder`` ready for a fresh run, or say in one line why it cannot be used."""
    layout = _layout(folder)
    check_writable(layout.path)
    if holds_results(layout):
        raise RunFolderError(
            f"{layout.path} already holds a run: continue it with --resume {layout.path} (resume= in Python), "
            "or choose another --out"
        )
    layout.metrics.unlink(missing_ok=True)  # left by a run that stopped before its first checkpoint


def prepare_resume(folder: Path | RunFolder) -> None:
    folder = _layout(folder).path
    if not folder.is_dir():
        raise RunFolderError(f"--resume {folder}: no such run folder")
    check_writable(folder)
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
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
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

    def _holder(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8").strip() or "unknown"
        except OSError:
            return "unknown"

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
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
