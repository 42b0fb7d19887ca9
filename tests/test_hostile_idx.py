"""MNIST's raw IDX files made hostile: cut, empty, another magic, an HTML page or a gzip under the raw name,
labels that do not match the images, labels past 9, images of another rank or size. ``ganzoo run`` names the
file and what it should hold in one line, exit 2, before torchvision reads it."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import pytest
import torch
from helpers_training import assert_one_line_error

from ganzoo.cli.main import main

pytestmark = pytest.mark.usefixtures("one_thread")

N = 64


def idx(array: torch.Tensor) -> bytes:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.dim()) + struct.pack(f">{array.dim()}i", *array.shape)
    return header + array.to(torch.uint8).numpy().tobytes()


def mnist_files(root: Path, *, images: bytes | None = None, labels: bytes | None = None) -> dict[str, Path]:
    """A well-formed 64-image MNIST train/test pair under ``root``, with the train files replaced as given."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    pixels = torch.randint(0, 256, (N, 28, 28), generator=torch.Generator().manual_seed(0))
    paths = {}
    for prefix in ("train", "t10k"):
        paths[f"{prefix}-images"] = raw / f"{prefix}-images-idx3-ubyte"
        paths[f"{prefix}-labels"] = raw / f"{prefix}-labels-idx1-ubyte"
        paths[f"{prefix}-images"].write_bytes(idx(pixels))
        paths[f"{prefix}-labels"].write_bytes(idx(torch.arange(N) % 10))
    if images is not None:
        paths["train-images"].write_bytes(images)
    if labels is not None:
        paths["train-labels"].write_bytes(labels)
    return paths


def run(tmp_path: Path) -> int:
    recipe = tmp_path / "mnist.toml"
    recipe.write_text(f"""name = "tiny-mnist"
[data]
name = "mnist"
root = "{tmp_path}"
image_size = 16
[generator]
name = "dcgan"
width = 8
[discriminator]
name = "dcgan"
width = 8
[loss]
name = "non-saturating"
[train]
steps = 2
batch_size = 8
grid_size = 4
device = "cpu"
""")
    return main(["run", str(recipe), "--out", str(tmp_path / "run"), "--quiet"])


GOOD_IMAGES = idx(torch.zeros(N, 28, 28))
CASES = [
    ("images-empty", {"images": b""}, "train-images", "0 bytes, cut inside the IDX header"),
    ("images-cut-in-header", {"images": GOOD_IMAGES[:10]}, "train-images", "cut inside the IDX header"),
    ("images-cut-in-data", {"images": GOOD_IMAGES[:-100]}, "train-images", "but its header promises 50,192"),
    ("images-padded", {"images": GOOD_IMAGES + b"\0"}, "train-images", "the file is cut or padded"),
    ("images-wrong-magic", {"images": b"\x00\x00\x0d\x03" + GOOD_IMAGES[4:]}, "train-images", "magic 00000d03"),
    ("images-html", {"images": b"<!DOCTYPE html><html>404 Not Found</html>"}, "train-images", "an HTML page"),
    ("images-gzip", {"images": gzip.compress(GOOD_IMAGES)}, "train-images", "a gzip file under the raw name"),
    ("images-2d", {"images": idx(torch.zeros(N, 784))}, "train-images", "2 dimension(s); expected 3"),
    ("images-32px", {"images": idx(torch.zeros(N, 32, 32))}, "train-images", "images of 32 x 32; expected 28 x 28"),
    ("images-huge-count", {"images": b"\0\0\x08\x03" + struct.pack(">3i", 2**31 - 1, 28, 28)}, "train-images",
     "expected 1 to 10,000,000 items"),
    ("labels-fewer", {"labels": idx(torch.zeros(50))}, "train-labels", "50 labels for the 64 images"),
    ("labels-more", {"labels": idx(torch.zeros(200))}, "train-labels", "200 labels for the 64 images"),
    ("labels-above-9", {"labels": idx(torch.full((N,), 12))}, "train-labels", "a label 12; labels are 0 to 9"),
]


@pytest.mark.parametrize("files, culprit, says", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_a_hostile_idx_file_is_named_in_one_line(tmp_path, capsys, files, culprit, says):
    paths = mnist_files(tmp_path, **files)
    assert run(tmp_path) == 2
    err = capsys.readouterr().err
    assert_one_line_error(err, f"mnist: {paths[culprit]}", says)
    assert not (tmp_path / "run" / "generator.safetensors").exists()


def test_well_formed_files_train(tmp_path, capsys):
    mnist_files(tmp_path)
    assert run(tmp_path) == 0
