"""Weights files made hostile on the read side: metadata asking for a huge module, tensors of another kind
or shape, units that overflow. Each refused in one line naming the file, before anything big is allocated."""

from __future__ import annotations

import json

import pytest
import torch
from hostile_runs import RING, train
from helpers_training import assert_one_line_error
from safetensors import safe_open
from safetensors.torch import save_file

from ganzoo.cli.main import main
from ganzoo.weights import MAX_PARAMETERS

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
    return train(RING, tmp_path_factory.mktemp("ring") / "run")


def rewrite(source, target, *, tensors=None, **changes):
    with safe_open(str(source), framework="pt") as handle:
        metadata = dict(handle.metadata())
        found = {key: handle.get_tensor(key) for key in handle.keys()}
    metadata.update({f"ganzoo.{key}": value for key, value in changes.items()})
    save_file(tensors(found) if tensors else found, str(target), metadata=metadata)
    return target


def options(ring_run, **changes) -> str:
    with safe_open(str(ring_run / "generator.safetensors"), framework="pt") as handle:
        return json.dumps({**json.loads(handle.metadata()["ganzoo.options"]), **changes})


def refuse(args, capsys, *fragments):
    assert main(args) == 2
    assert_one_line_error(capsys.readouterr().err, *fragments)


@pytest.mark.parametrize("command", ["sample", "eval"])
def test_a_small_file_asking_for_a_huge_module_is_refused_before_building_it(ring_run, tmp_path, capsys, command):
    """A million classes of 16,384-wide embeddings: 16 G values (64 GB) if it were built; planned on the meta
    device, it is refused with the bound in the message and the test stays within a few hundred MB."""
    bad = rewrite(ring_run / "generator.safetensors", tmp_path / "bomb.safetensors", num_classes="1000000",
                  options=options(ring_run, embedding_dim=16384))
    assert bad.stat().st_size < 10_000
    args = ["sample", str(bad), "--out", str(tmp_path / "x.npy")] if command == "sample" else ["eval", str(bad), "-n", "50"]
    refuse(args, capsys, str(bad), f"at most {MAX_PARAMETERS:,} are loaded")
    assert not (tmp_path / "x.npy").exists()


def test_metadata_for_another_module_than_the_tensors_is_named(ring_run, tmp_path, capsys):
    bad = rewrite(ring_run / "generator.safetensors", tmp_path / "classes.safetensors", num_classes="10")
    refuse(["sample", str(bad), "--out", str(tmp_path / "x.npy")], capsys, str(bad), "lacks 'embed.weight'")


def test_a_tensor_of_another_shape_is_named(ring_run, tmp_path, capsys):
    def grow(tensors):
        key = sorted(tensors)[0]
        tensors[key] = torch.zeros(tensors[key].numel() + 1)
        return tensors

    bad = rewrite(ring_run / "generator.safetensors", tmp_path / "shape.safetensors", tensors=grow)
    refuse(["sample", str(bad), "--out", str(tmp_path / "x.npy")], capsys, str(bad), "has shape", "takes")


@pytest.mark.parametrize("dtype, says", [(torch.int8, "is torch.int8;"), (torch.int64, "is torch.int64;"),
                                         (torch.bool, "is torch.bool;"), (torch.complex64, "weights are real numbers")])
def test_tensors_of_another_kind_are_never_cast(ring_run, tmp_path, capsys, dtype, says):
    bad = rewrite(ring_run / "generator.safetensors", tmp_path / "kind.safetensors",
                  tensors=lambda t: {k: v.to(dtype) for k, v in t.items()})
    for args in (["sample", str(bad), "--out", str(tmp_path / "x.npy")], ["eval", str(bad), "-n", "50"]):
        refuse(args, capsys, str(bad), says)


def test_half_precision_weights_still_load(ring_run, tmp_path, capsys):
    """Another float width is the same kind of value: loading casts it as torch always has."""
    half = rewrite(ring_run / "generator.safetensors", tmp_path / "half.safetensors",
                   tensors=lambda t: {k: v.to(torch.float16) for k, v in t.items()})
    assert main(["sample", str(half), "--out", str(tmp_path / "x.npy")]) == 0


@pytest.mark.parametrize("units, says", [('{"scale": 1e39, "offset": 0}', "units.scale: got 1e+39"),
                                         ('{"scale": 1, "offset": -1e31}', "units.offset: got -1e+31")])
def test_units_beyond_float32_are_refused(ring_run, tmp_path, capsys, units, says):
    bad = rewrite(ring_run / "generator.safetensors", tmp_path / "units.safetensors", units=units)
    refuse(["sample", str(bad), "--out", str(tmp_path / "x.npy")], capsys, str(bad), says, "between -1e+30 and 1e+30")
    assert not (tmp_path / "x.npy").exists()


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    return train("dcgan-digits", tmp_path_factory.mktemp("digits") / "run")


class Payload:
    """Any object: torch.load(weights_only=True) refuses to rebuild it, so its code never runs."""

    def __reduce__(self):
        return (print, ("this must never be printed",))


@pytest.mark.parametrize("content", ["pickle", "not-a-dict", "fc-not-a-tensor"])
def test_an_inception_file_holding_a_pickle_is_one_line(digits_run, tmp_path, capsys, content):
    """torch-fidelity unpickles its weights file without restriction: ganzoo refuses anything but tensors first."""
    pytest.importorskip("torch_fidelity", reason="the fid extra (torch-fidelity) is not installed")
    path = tmp_path / "inception.pth"
    if content == "pickle":
        torch.save({"fc.weight": Payload()}, path)
    else:
        torch.save([1, 2] if content == "not-a-dict" else {"fc.weight": 3}, path)
    assert main(["eval", str(digits_run), "-n", "50", "--metric", "fid", "--inception-weights", str(path)]) == 2
    captured = capsys.readouterr()
    assert "this must never be printed" not in captured.out + captured.err
    assert_one_line_error(captured.err, f"fid: {path.resolve()}" if content != "pickle" else f"cannot read {path.resolve()}")
