"""MNIST's IDX files checked before torchvision reads them.

torchvision trusts the four raw files: a file cut inside its header, a gzip or an HTML error page saved
under the raw name, a wrong magic number, 50 labels for 64 images or labels above 9 end in a ValueError,
an AssertionError, an IndexError deep in training, or a silently shortened set. Here each file's header is
parsed and its size held to what the header says, before anything is allocated, and the pair agrees:
one line names the file and what it should hold.

The format: two zero bytes, a type byte (0x08: unsigned bytes, the only one MNIST uses), the number of
dimensions, then each size as a big-endian int32, then the values.
"""

from __future__ import annotations

import math
import os
import struct

from ganzoo.plugin import GanzooError

UBYTE = 0x08
SIDE = 28  # MNIST and Fashion-MNIST images are 28 x 28
CLASSES = 10
MAX_ITEMS = 10_000_000  # images in one file (MNIST has 60,000): past it, not an MNIST file


def read_header(path: str, name: str, ndim: int) -> tuple[int, ...]:
    """The sizes in ``path``'s header, checked against the file's length and the expected ``ndim``."""
    where = f"{name}: {os.path.abspath(path)}"
    with open(path, "rb") as handle:
        head = handle.read(4)
        if len(head) < 4:
            raise GanzooError(f"{where}: {len(head)} bytes, cut inside the IDX header; copy the file again")
        if head[:2] == b"\x1f\x8b":
            raise GanzooError(f"{where}: a gzip file under the raw name; gunzip it (the raw files are not compressed)")
        if head[:2] != b"\0\0" or head[2] != UBYTE:
            raise GanzooError(f"{where}: not an IDX file of unsigned bytes (magic {head.hex()}, expected "
                              f"0000{UBYTE:02x}{ndim:02x}); an HTML page or another file saved under this name?")
        if head[3] != ndim:
            raise GanzooError(f"{where}: {head[3]} dimension(s); expected {ndim} "
                              f"({'images x rows x columns' if ndim == 3 else 'one label per image'})")
        raw = handle.read(4 * ndim)
    if len(raw) < 4 * ndim:
        raise GanzooError(f"{where}: cut inside the IDX header; copy the file again")
    sizes = struct.unpack(f">{ndim}i", raw)
    if not 0 < sizes[0] <= MAX_ITEMS or any(size <= 0 for size in sizes):
        raise GanzooError(f"{where}: sizes {list(sizes)} in the header; expected 1 to {MAX_ITEMS:,} items")
    expected = 4 + 4 * ndim + math.prod(sizes)
    actual = os.path.getsize(path)
    if actual != expected:
        raise GanzooError(f"{where}: {actual:,} bytes, but its header promises {expected:,} ({' x '.join(map(str, sizes))} "
                          "values); the file is cut or padded: copy it again")
    return sizes


def check_pair(folder: str, prefix: str, name: str) -> None:
    """``PREFIX-images-idx3-ubyte`` and ``PREFIX-labels-idx1-ubyte`` in ``folder``: well formed, 28 x 28
    images, as many labels as images, each below 10. Missing files are left to the caller's message."""
    images = os.path.join(folder, f"{prefix}-images-idx3-ubyte")
    labels = os.path.join(folder, f"{prefix}-labels-idx1-ubyte")
    if not (os.path.isfile(images) and os.path.isfile(labels)):
        return
    n_images, rows, columns = read_header(images, name, 3)
    if (rows, columns) != (SIDE, SIDE):
        raise GanzooError(f"{name}: {os.path.abspath(images)}: images of {rows} x {columns}; expected {SIDE} x {SIDE}")
    (n_labels,) = read_header(labels, name, 1)
    if n_labels != n_images:
        raise GanzooError(f"{name}: {os.path.abspath(labels)}: {n_labels:,} labels for the {n_images:,} images of "
                          f"{os.path.basename(images)}; the two files must come from the same set")
    with open(labels, "rb") as handle:
        handle.seek(8)
        top = max(handle.read())
    if top >= CLASSES:
        raise GanzooError(f"{name}: {os.path.abspath(labels)}: a label {top}; labels are 0 to {CLASSES - 1}")
