"""The environment made hostile: a GANZOO_CACHE that is a file, read-only or full, a cached classifier cut
short, a disk that fills while `new-plugin` writes. One line naming GANZOO_CACHE or the folder, exit 2, no
file left half-written; a damaged cache file (ours) is rebuilt with a warning."""

from __future__ import annotations

import errno
import json
import os

import pytest
from hostile_runs import train
from helpers_training import assert_one_line_error

from ganzoo.cli.main import main

pytestmark = pytest.mark.usefixtures("one_thread")

EVAL = ["-n", "50", "--metric", "duplicates"]  # needs the cached digits classifier


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    return train("dcgan-digits", tmp_path_factory.mktemp("digits") / "run")


def test_a_cache_that_is_a_file_is_one_line(digits_run, tmp_path, capsys, monkeypatch):
    cache = tmp_path / "cache"
    cache.write_text("not a folder")
    monkeypatch.setenv("GANZOO_CACHE", str(cache))
    assert main(["eval", str(digits_run), *EVAL]) == 2
    assert_one_line_error(capsys.readouterr().err, f"GANZOO_CACHE={cache}: {cache} is not a folder")
    assert cache.read_text() == "not a folder"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_cache_is_one_line_before_any_training(digits_run, tmp_path, capsys, monkeypatch):
    cache = tmp_path / "cache"
    cache.mkdir()
    cache.chmod(0o555)
    monkeypatch.setenv("GANZOO_CACHE", str(cache))
    try:
        assert main(["eval", str(digits_run), *EVAL]) == 2
        assert_one_line_error(capsys.readouterr().err, f"GANZOO_CACHE={cache}", "is not writable")
    finally:
        cache.chmod(0o755)


def test_a_full_cache_disk_is_one_line_and_leaves_no_temporary_file(digits_run, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("ganzoo.evaluation.classifier.save_file", full)
    assert main(["eval", str(digits_run), *EVAL]) == 2
    assert_one_line_error(capsys.readouterr().err, "cannot write", "No space left on device", "GANZOO_CACHE")
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]


def test_a_cut_cached_classifier_is_trained_again_and_replaced(digits_run, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))
    assert main(["eval", str(digits_run), *EVAL, "--json"]) == 0
    (cached,) = (tmp_path / "cache" / "classifiers").glob("*.safetensors")
    whole = tmp_path / "whole.safetensors"
    whole.write_bytes(cached.read_bytes())
    cached.write_bytes(whole.read_bytes()[:1000])
    capsys.readouterr()
    assert main(["eval", str(digits_run), *EVAL, "--json"]) == 0
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    assert any("unreadable cached classifier" in note and "training it again" in note
               for note in json.loads(out.out)["warnings"])
    assert contents(cached) == contents(whole)  # the same seed and budget: the same network, cached again


def contents(path):
    """Tensors and metadata of a safetensors file (its header's key order varies from process to process)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        return handle.metadata(), {key: handle.get_tensor(key).tolist() for key in handle.keys()}


def test_new_plugin_on_a_full_disk_leaves_nothing(tmp_path, capsys, monkeypatch):
    from pathlib import Path

    real = Path.write_text
    calls = []

    def fill_up(self, *args, **kwargs):
        calls.append(self)
        if len(calls) == 3:  # the disk fills in the middle of the package
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", fill_up)
    target = tmp_path / "ganzoo-tiny-gan"
    assert main(["new-plugin", "ganzoo-tiny-gan", "--dir", str(target)]) == 2
    assert_one_line_error(capsys.readouterr().err, f"{target}: cannot write the package: No space left on device",
                          "nothing was left behind")
    assert list(tmp_path.iterdir()) == []  # neither the package nor its staging folder
    monkeypatch.setattr(Path, "write_text", real)
    assert main(["new-plugin", "ganzoo-tiny-gan", "--dir", str(target)]) == 0  # and the name is still free
    assert (target / "pyproject.toml").is_file() and oct(target.stat().st_mode & 0o777) != "0o700"


def test_new_plugin_into_an_existing_empty_folder(tmp_path, capsys):
    target = tmp_path / "empty"
    target.mkdir()
    assert main(["new-plugin", "ganzoo-tiny-gan", "--dir", str(target)]) == 0
    assert (target / "ganzoo_tiny_gan" / "__init__.py").is_file()
