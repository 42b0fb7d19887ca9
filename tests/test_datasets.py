"""The built-in datasets: geometry of the mixtures, the fixed digits split, torchvision files written by the
tests themselves (nothing is downloaded), a user's image folder, and the one-line errors for missing data."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pluggy
import pytest
import torch

import ganzoo_datasets
from ganzoo.components import Component, DataInfo
from ganzoo.errors import GanzooError
from ganzoo_datasets.mixtures import GaussianMixture

NAMES = {"ring8", "grid25", "digits", "mnist", "fashion-mnist", "cifar10", "image-folder", "stacked-digits"}


def registered() -> dict[str, Component]:
    import ganzoo.hookspecs

    pm = pluggy.PluginManager("ganzoo")
    pm.add_hookspecs(ganzoo.hookspecs)
    pm.register(ganzoo_datasets)
    found: dict[str, Component] = {}

    def register(name: str, factory: Any, *, description: str, **support: Any) -> None:
        found[name] = Component("dataset", name, factory, description, plugin="datasets", **support)

    pm.hook.register_datasets(register=register)
    return found


def build(name: str, split: str = "train", **table: Any) -> Any:
    component = registered()[name]
    options = component.parse(table)
    dataset = component.load_factory()(options, split=split)
    assert dataset.info == component.data_info(options), "info at validation and on the dataset disagree"
    return dataset


def assert_images(x: torch.Tensor, shape: tuple[int, ...]) -> None:
    assert x.dtype == torch.float32 and tuple(x.shape[1:]) == shape
    assert x.min() >= -1.0 and x.max() <= 1.0
    assert x.min() < -0.9 and x.max() > 0.9, "the [-1, 1] range is not used"


# ---------------------------------------------------------------- registration


def test_every_dataset_registers_with_cheap_info() -> None:
    found = registered()
    assert set(found) == NAMES
    for component in found.values():
        assert component.description and "\n" not in component.description and component.info is not None


def test_listing_and_info_do_not_import_torch(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    code = (
        "import sys, ganzoo_datasets\n"
        "from ganzoo.components import Component\n"
        "found = {}\n"
        "def register(name, factory, *, description, **kw):\n"
        "    found[name] = Component('dataset', name, factory, description, plugin='datasets', **kw)\n"
        "ganzoo_datasets.register_datasets(register)\n"
        f"tables = {{'image-folder': {{'root': {str(tmp_path)!r}}}}}\n"
        "infos = {n: c.data_info(c.parse(tables.get(n, {}))) for n, c in found.items()}\n"
        "assert infos['image-folder'].num_classes == 2, infos\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------- Gaussian mixtures


def nearest_modes(mixture: GaussianMixture, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, Any]:
    x, y = mixture.sample(n, torch.Generator().manual_seed(seed))
    assert x.shape == (n, 2) and x.dtype == torch.float32
    return x, torch.cdist(x, mixture.centres()).argmin(dim=1), y


def check_modes(mixture: GaussianMixture, n_modes: int, n: int = 20_000) -> None:
    x, nearest, _ = nearest_modes(mixture, n)
    assert x.abs().max() < 1.0, "samples must stay inside tanh's range"
    counts = torch.bincount(nearest, minlength=n_modes)
    assert counts.numel() == n_modes and (counts > 0).all(), counts
    assert counts.min() > 0.7 * n / n_modes  # equal weights
    for k in range(n_modes):
        offsets = x[nearest == k] - mixture.centres()[k]
        assert offsets.mean(0).abs().max() < 4 * mixture.std / counts[k].sqrt() + 1e-6
        assert offsets.std(0).tolist() == pytest.approx([mixture.std] * 2, rel=0.15)


def test_ring8_has_eight_equally_spaced_modes() -> None:
    ring = build("ring8")
    assert ring.info == DataInfo((2,), 0)
    protocol = ring.protocol_centres()
    assert protocol.shape == (8, 2)
    assert protocol.norm(dim=1).tolist() == pytest.approx([1.0] * 8, abs=1e-6)
    angles = torch.atan2(protocol[:, 1], protocol[:, 0]).remainder(2 * torch.pi)
    assert angles.tolist() == pytest.approx([2 * torch.pi * i / 8 for i in range(8)], abs=1e-6)
    assert ring.protocol_std == 0.01
    assert torch.allclose(ring.centres(), protocol * ring.scale)
    assert ring.std == pytest.approx(0.01 * ring.scale)
    check_modes(ring, 8)


def test_grid25_is_the_scaled_protocol_grid() -> None:
    grid = build("grid25")
    assert grid.info == DataInfo((2,), 0)
    coords = sorted(set(grid.protocol_centres()[:, 0].tolist()))
    assert coords == [-4.0, -2.0, 0.0, 2.0, 4.0]
    assert grid.protocol_centres().shape == (25, 2) and grid.protocol_std == 0.05
    assert grid.scale == pytest.approx(0.2)
    assert grid.centres().abs().max() == pytest.approx(0.8)
    assert grid.std == pytest.approx(0.01)
    assert grid.std / (2 * grid.scale) == pytest.approx(0.05 / 2)  # std / spacing as published
    check_modes(grid, 25)


def test_mixtures_are_reproducible_and_labelled_on_request() -> None:
    ring = build("ring8", labelled=True)
    assert ring.info == DataInfo((2,), 8)
    x1, nearest, y = nearest_modes(ring, 500, seed=3)
    x2, _, _ = nearest_modes(ring, 500, seed=3)
    assert torch.equal(x1, x2)
    assert y.dtype == torch.int64 and torch.equal(y, nearest)
    grid = build("grid25", labelled=True, scale=0.25, split="test")
    assert grid.info.num_classes == 25 and grid.centres().abs().max() == pytest.approx(1.0)
    _, nearest, y = nearest_modes(grid, 500)
    assert torch.equal(y, nearest)
    assert build("ring8").sample(3, torch.Generator())[1] is None


# ---------------------------------------------------------------- digits


def test_digits_fixed_stratified_split() -> None:
    train, test = build("digits"), build("digits", split="test")
    (x_train, y_train), (x_test, y_test) = train.tensors(), test.tensors()
    assert (len(y_train), len(y_test)) == (1437, 360)
    assert_images(x_train, (1, 32, 32))
    assert_images(x_test, (1, 32, 32))
    assert y_train.dtype == torch.int64 and set(y_train.tolist()) == set(y_test.tolist()) == set(range(10))
    assert torch.bincount(y_test).min() >= 35
    assert train.info == DataInfo((1, 32, 32), 10)
    # fixed: the same images every time, and no image in both splits
    assert torch.equal(build("digits", split="test").tensors()[0], x_test)
    flat_train = {tuple(row) for row in x_train.flatten(1).tolist()}
    assert not any(tuple(row) in flat_train for row in x_test.flatten(1).tolist()[:50])


def test_digits_image_size() -> None:
    small = build("digits", split="test", image_size=8)
    x, _ = small.tensors()
    assert_images(x, (1, 8, 8))
    from sklearn.datasets import load_digits

    values = set(((x + 1) * 8).round().unique().tolist())  # 8x8 is the original grid: 0..16 exactly
    assert values <= set(range(17)) and len(values) == 17
    assert load_digits().images.shape[1:] == (8, 8)
    assert_images(build("digits", split="test", image_size=20).tensors()[0], (1, 20, 20))


# ---------------------------------------------------------------- torchvision files, written here


def write_idx(path: Path, array: torch.Tensor) -> None:
    """The IDX format of MNIST: magic (0, 0, 0x08 = ubyte, ndim), big-endian int32 sizes, raw bytes."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.dim()) + struct.pack(f">{array.dim()}i", *array.shape)
    path.write_bytes(header + array.to(torch.uint8).numpy().tobytes())


def write_mnist(root: Path, folder: str, n_train: int = 20, n_test: int = 10) -> dict[str, torch.Tensor]:
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    g = torch.Generator().manual_seed(0)
    made = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = torch.randint(0, 256, (n, 28, 28), generator=g)
        images[:, 0, 0], images[:, 0, 1] = 0, 255  # the full range in every image
        labels = torch.arange(n) % 10
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
        made[prefix] = images
    return made


@pytest.mark.parametrize(("name", "folder"), [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")])
def test_mnist_style_sets_read_the_raw_idx_files(tmp_path: Path, name: str, folder: str) -> None:
    made = write_mnist(tmp_path, folder)
    train = build(name, root=str(tmp_path))
    x, y = train.tensors()
    assert_images(x, (1, 28, 28))
    assert len(x) == 20 and y.dtype == torch.int64 and y.tolist() == [i % 10 for i in range(20)]
    assert torch.allclose((x[:, 0] + 1) * 127.5, made["train"].float(), atol=1e-3)
    assert train.info == DataInfo((1, 28, 28), 10) and len(train.classes) == 10
    x_test, y_test = build(name, split="test", root=str(tmp_path)).tensors()
    assert len(x_test) == len(y_test) == 10
    resized = build(name, root=str(tmp_path), image_size=32)
    assert_images(resized.tensors()[0], (1, 32, 32))
    assert resized.info == DataInfo((1, 32, 32), 10)


def test_cifar10_reads_the_python_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches in CIFAR's pickle layout (rows of 3x32x32 bytes, channel-major); torchvision checks their md5
    sums, which files written here cannot match, so that one check is switched off."""
    import pickle

    import torchvision.datasets.cifar

    monkeypatch.setattr(torchvision.datasets.cifar, "check_integrity", lambda *args, **kw: True)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    pixels = torch.zeros(3, 32, 32, dtype=torch.uint8)
    pixels[0], pixels[2, 0, 0] = 255, 7  # red, and one marked pixel of the blue channel
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        rows = pixels.flatten().repeat(2, 1).numpy()
        (folder / name).write_bytes(pickle.dumps({"data": rows, "labels": [3, 5]}))
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": names}))
    train = build("cifar10", root=str(tmp_path))
    x, y = train.tensors()
    assert x.shape == (10, 3, 32, 32) and y.tolist() == [3, 5] * 5 and train.classes[3] == "cat"
    assert x[:, 0].eq(1).all() and x[:, 1].eq(-1).all()
    assert float(x[0, 2, 0, 0]) == pytest.approx(7 / 127.5 - 1) and float(x[0, 2, 0, 1]) == -1.0
    test = build("cifar10", split="test", root=str(tmp_path), image_size=16)
    assert test.info == DataInfo((3, 16, 16), 10) and test.tensors()[0].shape == (2, 3, 16, 16)


@pytest.mark.parametrize(
    ("name", "folder"),
    [("mnist", "MNIST/raw"), ("fashion-mnist", "FashionMNIST/raw"), ("cifar10", "cifar-10-batches-py")],
)
def test_missing_torchvision_files_give_one_line_with_the_folder(tmp_path: Path, name: str, folder: str) -> None:
    with pytest.raises(GanzooError) as caught:
        build(name, root=str(tmp_path / "nowhere"))
    message = str(caught.value)
    assert "\n" not in message
    assert os.path.join(str(tmp_path / "nowhere"), *folder.split("/")) in message
    assert "data.download = true" in message
    assert not (tmp_path / "nowhere").exists(), "nothing may be created (or downloaded) without download = true"


# ---------------------------------------------------------------- image folders, written here


def write_png(path: Path, size: tuple[int, int], colour: tuple[int, int, int]) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", size, colour)
    image.putpixel((size[0] // 2, size[1] // 2), (255, 255, 255))
    image.save(path)


def write_classes(root: Path, per_class: int = 5) -> None:
    colours = {"cats": (0, 0, 0), "dogs": (255, 0, 0), "owls": (0, 0, 255)}
    for label, colour in colours.items():
        for i in range(per_class):
            write_png(root / label / f"{i}.png", (40 + i, 30), colour)
    write_png(root / ".thumbnails" / "x.png", (8, 8), (9, 9, 9))  # hidden: never a class
    (root / "cats" / "notes.txt").write_text("not an image")


def test_image_folder_reads_classes_from_sub_folders(tmp_path: Path) -> None:
    write_classes(tmp_path)
    train = build("image-folder", root=str(tmp_path), image_size=16)
    test = build("image-folder", split="test", root=str(tmp_path), image_size=16)
    assert train.info == DataInfo((3, 16, 16), 3) and train.classes == ("cats", "dogs", "owls")
    assert (len(train), len(test)) == (13, 2)  # ceil(10% of 15) held out
    items = [train[i] for i in range(len(train))] + [test[i] for i in range(len(test))]
    x = torch.stack([item[0] for item in items])
    assert_images(x, (3, 16, 16))
    labels = [item[1] for item in items]
    assert sorted(labels) == sorted([0] * 5 + [1] * 5 + [2] * 5)
    for image, label in items:  # the colour of each class survives decoding, resizing and cropping
        corner = image[:, 0, 0]
        assert corner.tolist() == pytest.approx([[-1, -1, -1], [1, -1, -1], [-1, -1, 1]][label], abs=1e-5)
    loader = torch.utils.data.DataLoader(train, batch_size=4)
    xb, cb = next(iter(loader))
    assert xb.shape == (4, 3, 16, 16) and cb.dtype == torch.int64


def test_image_folder_grayscale_and_flat_folders(tmp_path: Path) -> None:
    for i in range(4):
        write_png(tmp_path / f"{i}.png", (20, 24), (255, 255, 255))
    flat = build("image-folder", root=str(tmp_path), image_size=8, channels=1, test_fraction=0.0)
    assert flat.info == DataInfo((1, 8, 8), 0) and len(flat) == 4
    x = flat[0]
    assert isinstance(x, torch.Tensor) and x.shape == (1, 8, 8) and x.max() == 1.0
    with pytest.raises(GanzooError, match="test split"):
        build("image-folder", split="test", root=str(tmp_path), test_fraction=0.0)


def test_image_folder_with_one_sub_folder_is_unlabelled(tmp_path: Path) -> None:
    for i in range(3):
        write_png(tmp_path / "img_align" / f"{i}.jpg", (30, 30), (10, 20, 30))
    one = build("image-folder", root=str(tmp_path), image_size=8)
    assert one.info.num_classes == 0 and isinstance(one[0], torch.Tensor)


def test_image_folder_errors_are_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    for split in ("train", "test"):
        with pytest.raises(GanzooError, match="does not exist") as caught:
            build("image-folder", split=split, root=str(missing))
        assert "\n" not in str(caught.value) and str(missing) in str(caught.value)
    component = registered()["image-folder"]
    with pytest.raises(GanzooError, match="does not exist"):  # at validation already
        component.data_info(component.parse({"root": str(missing)}))
    (tmp_path / "empty" / "a").mkdir(parents=True)
    (tmp_path / "empty" / "b").mkdir()
    write_png(tmp_path / "empty" / "a" / "0.png", (8, 8), (0, 0, 0))
    with pytest.raises(GanzooError) as caught:
        build("image-folder", root=str(tmp_path / "empty"))
    assert "\n" not in str(caught.value) and f"no image files in {tmp_path / 'empty' / 'b'}" in str(caught.value)
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "readme.txt").write_text("no images here")
    with pytest.raises(GanzooError, match="no image files in") as caught:
        build("image-folder", root=str(tmp_path / "flat"))
    assert "\n" not in str(caught.value)


def test_a_failed_download_is_one_line_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torchvision.datasets

    def offline(self: Any) -> None:  # what torchvision raises when every mirror fails; no network touched
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried https://example, got URLError")

    monkeypatch.setattr(torchvision.datasets.MNIST, "download", offline)
    with pytest.raises(GanzooError) as caught:
        build("mnist", root=str(tmp_path), download=True)
    message = str(caught.value)
    assert "\n" not in message and "could not download" in message
    assert os.path.join(str(tmp_path), "MNIST", "raw") in message and "Error downloading" in message
