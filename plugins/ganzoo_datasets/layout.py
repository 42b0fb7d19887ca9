"""How a user's image folder is laid out, decided from directory entries alone (no torch, no decoding).

Rules, shared by ``info`` (at validation) and the loader (at training) so the two never disagree:

- each visible sub-folder of ``root`` is a class (torchvision ImageFolder's convention); hidden ones
  (``.ipynb_checkpoints``, ``.thumbnails``...) are skipped, where ImageFolder would make them classes;
- two or more sub-folders make a labelled dataset, classes numbered in sorted name order;
- exactly one sub-folder (``celeba/img_align_celeba/``, the usual way to satisfy ImageFolder) is
  unlabelled: a single class carries no information, and a conditional model on it would be a mistake;
- no sub-folder: the images directly inside ``root`` form an unlabelled set;
- symbolic links are followed (a dataset linked in from another disk is common), but a link back to a
  folder already being read (a loop, which would never end) is refused in one line naming it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from ganzoo.plugin import GanzooError

# torchvision.datasets.folder.IMG_EXTENSIONS, repeated so this module needs no torch
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def class_folders(root: str) -> list[str]:
    """Sorted names of the visible sub-folders of ``root``; a one-line GanzooError if root is no folder."""
    if not os.path.isdir(root):
        what = "is not a folder" if os.path.exists(root) else "does not exist"
        raise GanzooError(
            f"image-folder: data.root {os.path.abspath(root)} {what}; "
            "point it at a folder of images, or of one sub-folder of images per class"
        )
    with os.scandir(root) as entries:
        return sorted(e.name for e in entries if e.is_dir() and not e.name.startswith("."))


def num_classes(classes: list[str]) -> int:
    return len(classes) if len(classes) >= 2 else 0


def is_visible_image(root: str, path: str) -> bool:
    """An image file with a known extension and no hidden folder or name between ``root`` and it."""
    if not path.lower().endswith(IMAGE_EXTENSIONS):
        return False
    parts = os.path.relpath(path, root).split(os.sep)
    return not any(part.startswith(".") for part in parts)


def walk(folder: str, root: str | None = None) -> Iterator[tuple[str, list[str]]]:
    """``(folder, sorted file names)`` of ``folder`` and every visible sub-folder, links followed, in sorted
    order; a link that leads back to a folder on the way down from ``root`` (a loop) is one GanzooError
    naming it."""

    def visit(path: str, above: frozenset[tuple[int, int]]) -> Iterator[tuple[str, list[str]]]:
        info = os.stat(path)
        key = (info.st_dev, info.st_ino)
        if key in above:
            raise GanzooError(f"image-folder: {os.path.abspath(path)} is a symbolic link back to a folder that "
                              "contains it (a loop); remove the link")
        with os.scandir(path) as entries:
            found = sorted(entries, key=lambda e: e.name)
        yield path, [e.name for e in found if _is_file(e)]
        for entry in found:
            if not entry.name.startswith(".") and _is_dir(entry):
                yield from visit(entry.path, above | {key})

    start: frozenset[tuple[int, int]] = frozenset()
    if root is not None and os.path.abspath(root) != os.path.abspath(folder):
        info = os.stat(root)
        start = frozenset({(info.st_dev, info.st_ino)})
    yield from visit(folder, start)


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()  # follows links; a dangling link is neither folder nor file
    except OSError:
        return False


def _is_file(entry: os.DirEntry) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def image_files(root: str, folder: str) -> Iterator[str]:
    """Paths of the visible images in ``folder`` (under ``root``), at any depth, in torchvision's order
    (folders by path, then files by name), so the samples' order, and training, is what it always was."""
    for parent, files in sorted(walk(folder, root)):
        for name in files:
            path = os.path.join(parent, name)
            if is_visible_image(root, path):
                yield path


def has_image(root: str, folder: str) -> bool:
    """Whether ``folder`` (under ``root``) holds a visible image at any depth; stops at the first one."""
    for parent, files in walk(folder, root):
        if any(is_visible_image(root, os.path.join(parent, name)) for name in files):
            return True
    return False
