"""How a user's image folder is laid out, decided from directory entries alone (no torch, no decoding).

Rules, shared by ``info`` (at validation) and the loader (at training) so the two never disagree:

- each visible sub-folder of ``root`` is a class (torchvision ImageFolder's convention); hidden ones
  (``.ipynb_checkpoints``, ``.thumbnails``...) are skipped, where ImageFolder would make them classes;
- two or more sub-folders make a labelled dataset, classes numbered in sorted name order;
- exactly one sub-folder (``celeba/img_align_celeba/``, the usual way to satisfy ImageFolder) is
  unlabelled: a single class carries no information, and a conditional model on it would be a mistake;
- no sub-folder: the images directly inside ``root`` form an unlabelled set.
"""

from __future__ import annotations

import os

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


def has_image(root: str, folder: str) -> bool:
    """Whether ``folder`` (under ``root``) holds a visible image at any depth; stops at the first one."""
    for parent, dirs, files in os.walk(folder, followlinks=True):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        if any(is_visible_image(root, os.path.join(parent, name)) for name in files):
            return True
    return False
