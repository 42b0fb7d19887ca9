"""Image folders made hostile: files that do not decode, a folder of one image, links that loop, images whose
few kilobytes ask for gigapixels. ``ganzoo run`` (and eval's --data root=) name the file in one line, exit 2,
and never blame the run folder; nothing hangs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers_training import assert_one_line_error
from PIL import Image
from torchvision.datasets import ImageFolder

from ganzoo.cli.main import main
from ganzoo_datasets.folder import PIXELS_MAX, _LayoutImageFolder

pytestmark = pytest.mark.usefixtures("one_thread")


def images(root: Path, per_class: int = 6, classes: tuple[str, ...] = ("a", "b")) -> Path:
    for name in classes:
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            Image.new("RGB", (20, 20), (40 * i, 0, 0)).save(root / name / f"{i}.png")
    return root


def recipe(tmp_path: Path, root: Path) -> Path:
    path = tmp_path / "folder.toml"
    path.write_text(f"""name = "folder"
[data]
name = "image-folder"
root = "{root}"
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
batch_size = 4
grid_size = 4
device = "cpu"
""")
    return path


def run_refused(tmp_path, capsys, root: Path, *fragments: str) -> None:
    out = tmp_path / "run"
    assert main(["run", str(recipe(tmp_path, root)), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert_one_line_error(err, *fragments)
    assert "cannot write" not in err  # the data is the bad input, not the run folder
    assert not (out / "generator.safetensors").exists()


@pytest.mark.parametrize("content", [b"", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", b"<html>not an image</html>"],
                         ids=["zero-bytes", "truncated", "text"])
def test_an_image_that_does_not_decode_is_named(tmp_path, capsys, content):
    root = images(tmp_path / "data")
    bad = root / "a" / "3.png"
    bad.write_bytes(content)
    run_refused(tmp_path, capsys, root, f"image-folder: {bad}: not a readable image", "remove or replace it")


def test_a_decompression_bomb_is_refused_from_its_header(tmp_path, capsys):
    root = images(tmp_path / "data")
    bomb = root / "b" / "0.png"
    Image.new("1", (10_001, 10_001)).save(bomb)  # 100 megapixels in a few kilobytes
    assert bomb.stat().st_size < 100_000
    run_refused(tmp_path, capsys, root, f"{bomb}: 10001x10001 pixels", f"at most {PIXELS_MAX:,}")


def test_a_folder_of_one_image_is_one_line(tmp_path, capsys):
    root = tmp_path / "one"
    root.mkdir()
    Image.new("RGB", (20, 20)).save(root / "x.png")
    run_refused(tmp_path, capsys, root, "the data holds 1 sample(s), fewer than one batch (4)", "train.batch_size")


def test_links_back_to_a_parent_are_a_loop_named_not_a_hang(tmp_path, capsys):
    root = images(tmp_path / "data")
    for name in ("a", "b"):  # two loops: 2^40 paths if followed blindly
        (root / name / "up").symlink_to("..")
    run_refused(tmp_path, capsys, root, f"{root / 'a' / 'up'} is a symbolic link back to a folder that contains it")


def test_a_link_to_images_elsewhere_is_followed(tmp_path, capsys):
    elsewhere = images(tmp_path / "elsewhere", classes=("b",))
    root = images(tmp_path / "data", classes=("a",))
    (root / "b").symlink_to(elsewhere / "b")
    assert main(["run", str(recipe(tmp_path, root)), "--out", str(tmp_path / "run"), "--quiet"]) == 0


def test_the_samples_keep_torchvisions_order(tmp_path):
    """The loop-safe walk lists files exactly as torchvision's did, so training on a folder is unchanged."""
    root = tmp_path / "data"
    for folder in ("a", "a-b", "a/x", "a/x/y", "a/x-y", "a_c", "b", "b/.hidden"):
        (root / folder).mkdir(parents=True, exist_ok=True)
        for name in ("2.png", "10.png", "b.jpg", "notes.txt"):
            Image.new("RGB", (4, 4)).save(root / folder / name) if name != "notes.txt" else (root / folder / name).write_text("x")
    classes = {"a": 0, "b": 1}
    ours = _LayoutImageFolder.make_dataset(str(root), classes, is_valid_file=lambda p: True)
    theirs = ImageFolder.make_dataset(str(root), classes, extensions=(".png", ".jpg"))
    theirs = [(p, c) for p, c in theirs if ".hidden" not in p]  # hidden folders: never read (layout's rule)
    assert ours == theirs
    assert len(ours) == 15 and all(os.path.exists(p) for p, _ in ours)


@pytest.fixture(scope="module")
def folder_run(tmp_path_factory):
    import torch

    tmp = tmp_path_factory.mktemp("folder")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert main(["run", str(recipe(tmp, images(tmp / "data"))), "--out", str(tmp / "run"),
                     "--quiet"]) == 0
    finally:
        torch.set_num_threads(threads)
    return tmp / "run"


def test_eval_against_a_folder_with_a_bad_image_names_it(folder_run, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))
    root = images(tmp_path / "data")
    bad = root / "a" / "2.png"
    bad.write_bytes(b"")
    assert main(["eval", str(folder_run), "-n", "8", "--metric", "duplicates", "--data", f"root={root}"]) == 2
    assert_one_line_error(capsys.readouterr().err, f"{bad}: not a readable image")
