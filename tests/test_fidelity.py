"""fid, kid, isc and prc through torch-fidelity: ganzoo's figures equal the library's own ``calculate_metrics``
on the same images, with a feature-extractor file of random weights made here (nothing is downloaded).

Inception v3 at 299 px is slow on a CPU (about 0.3 s an image at one thread), so these tests use 12 samples
and 12 real images: the figures are not meaningful, only their agreement with the library's is.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from unittest import mock

import pytest
import torch

from ganzoo.cli.main import main

torch_fidelity = pytest.importorskip("torch_fidelity", reason="the fid extra (torch-fidelity) is not installed")

N = 12
TINY = ["--set", "generator.hidden_dims=[16]", "--set", "discriminator.hidden_dims=[16]", "--quiet"]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    patch = pytest.MonkeyPatch()
    patch.setenv("GANZOO_CACHE", str(tmp_path_factory.mktemp("cache")))
    patch.delenv("GANZOO_INCEPTION_WEIGHTS", raising=False)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
    patch.undo()


@pytest.fixture(scope="module")
def digits_run(env, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "digits"
    assert main(["run", "cmlp-digits", "--set", "train.steps=3", "--set", "data.image_size=8",
                 "--set", "train.batch_size=16", *TINY, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    """torch-fidelity's inception-v3-compat with random (He-initialised, so features do not vanish) weights."""
    from torch_fidelity import feature_extractor_inceptionv3 as fe

    with mock.patch.object(fe.torch, "load", return_value={}), \
            mock.patch.object(fe.FeatureExtractorInceptionV3, "load_state_dict"):
        torch.manual_seed(0)
        net = fe.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"], feature_extractor_weights_path="-")
    for module in net.modules():
        if isinstance(module, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
    path = tmp_path_factory.mktemp("weights") / "pt_inception-random.pth"
    torch.save(net.state_dict(), path)
    return path


class Stack(torch.utils.data.Dataset):
    def __init__(self, images):
        self.images = images

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.images[i]


def as_uint8_rgb(x: torch.Tensor) -> torch.Tensor:
    x = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.repeat(1, 3, 1, 1) if x.shape[1] == 1 else x


def reference(weights: Path, fake, real, **flags) -> dict:
    return torch_fidelity.calculate_metrics(
        input1=fake, input2=real, feature_extractor="inception-v3-compat", feature_extractor_weights_path=str(weights),
        cuda=False, cache=False, verbose=False, save_cpu_ram=True, rng_seed=0, **flags)


def eval_json(capsys, *argv: str) -> dict:
    capsys.readouterr()
    assert main(["eval", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_fid_equals_torch_fidelitys_on_the_same_images(digits_run, weights, capsys):
    from ganzoo.evaluation import EvalContext

    report = eval_json(capsys, str(digits_run), "--metric", "fid", "--inception-weights", str(weights), "-n", str(N),
                       "--set", "fid.real=test", "--set", f"fid.real_n={N}", "--device", "cpu")
    context = EvalContext.from_weights(digits_run, n=N, seed=0, device="cpu")
    fake = Stack(as_uint8_rgb(context.samples()[0]))
    real = Stack(as_uint8_rgb(context.real("test", N)[0]))
    expected = reference(weights, fake, real, fid=True)["frechet_inception_distance"]
    assert expected > 0
    assert report["metrics"]["fid"]["fid"] == pytest.approx(expected, rel=1e-6)
    protocol = report["protocols"]["fid"]
    assert protocol["library"] == f"torch-fidelity {torch_fidelity.__version__}"
    assert protocol["generated"] == N and protocol["real_count"] == N and protocol["real"] == "digits test split"
    assert protocol["resize"].startswith("8x8 -> 299x299") and len(protocol["weights_sha256"]) == 64


def test_kid_isc_prc_against_a_folder_equal_torch_fidelitys(digits_run, weights, tmp_path, capsys):
    from PIL import Image

    from ganzoo.evaluation import EvalContext

    folder = tmp_path / "real"
    folder.mkdir()
    noise = torch.Generator().manual_seed(1)
    for i in range(N):
        pixels = torch.randint(0, 256, (8, 8, 3), generator=noise, dtype=torch.uint8).numpy()
        Image.fromarray(pixels).save(folder / f"{i:02d}.png")
    options = [arg for name in ("kid", "prc") for arg in ("--set", f"{name}.real={folder}")]
    report = eval_json(capsys, str(digits_run), "--metric", "kid", "--metric", "isc", "--metric", "prc",
                       "--inception-weights", str(weights), "-n", str(N), "--device", "cpu", *options,
                       "--set", "kid.kid_subsets=3", "--set", "kid.kid_subset_size=6", "--set", "isc.isc_splits=2")
    context = EvalContext.from_weights(digits_run, n=N, seed=0, device="cpu")
    fake = Stack(as_uint8_rgb(context.samples()[0]))
    expected = reference(weights, fake, str(folder), kid=True, isc=True, prc=True, kid_subsets=3, kid_subset_size=6,
                         isc_splits=2)
    figures = report["metrics"]
    assert figures["kid"]["kid"] == pytest.approx(expected["kernel_inception_distance_mean"], rel=1e-6)
    assert figures["kid"]["kid_std"] == pytest.approx(expected["kernel_inception_distance_std"], rel=1e-6)
    assert figures["isc"]["is"] == pytest.approx(expected["inception_score_mean"], rel=1e-6)
    assert figures["prc"]["precision"] == pytest.approx(expected["precision"], abs=1e-9)
    assert figures["prc"]["recall"] == pytest.approx(expected["recall"], abs=1e-9)
    assert report["protocols"]["kid"]["real"] == f"folder {folder.resolve()}"
    assert report["protocols"]["kid"]["real_count"] == N
    assert report["protocols"]["isc"]["isc_splits"] == 2


def test_inception_weights_without_a_metric_named_leave_the_others_alone(weights, tmp_path, capsys):
    """A 2-D run: fid does not apply, and the weights offered to it are no error."""
    out = tmp_path / "ring"
    assert main(["run", "vanilla-ring8", "--set", "train.steps=2", *TINY, "--out", str(out)]) == 0
    report = eval_json(capsys, str(out), "--inception-weights", str(weights), "-n", "200")
    assert list(report["metrics"]) == ["mode-coverage"] and report["protocols"] == {}


def one_line_error(capsys, argv) -> str:
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("ganzoo: error:"), err
    return err


def test_missing_weights_is_one_line(digits_run, tmp_path, capsys):
    run = str(digits_run)
    assert "never downloads" in one_line_error(capsys, ["eval", run, "--metric", "fid", "-n", "4"])
    missing = tmp_path / "none.pth"
    assert "no such file" in one_line_error(capsys, ["eval", run, "--metric", "fid", "--inception-weights",
                                                     str(missing)])
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a state dict")
    assert "cannot read" in one_line_error(capsys, ["eval", run, "--metric", "fid", "--inception-weights", str(junk),
                                                    "-n", "4"])
    assert "takes weights" in one_line_error(capsys, ["eval", run, "--metric", "parzen", "--inception-weights",
                                                      str(junk)])


class Hostile:
    def __reduce__(self):
        return (print, ("unpickled!",))


def test_a_weights_file_with_code_in_it_is_refused_before_torch_fidelity_unpickles_it(digits_run, tmp_path, capsys):
    path = tmp_path / "hostile.pth"
    torch.save({"fc.weight": torch.zeros(1), "Mixed_7c.branch_pool.conv.weight": torch.zeros(1), "x": Hostile()},
               path, pickle_protocol=pickle.DEFAULT_PROTOCOL)
    err = one_line_error(capsys, ["eval", str(digits_run), "--metric", "fid", "--inception-weights", str(path),
                                  "-n", "4"])
    assert "cannot read" in err and "unpickled!" not in capsys.readouterr().out


def test_without_the_extra_fid_says_how_to_install_it(digits_run, weights, capsys, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "torch_fidelity", None)
    err = one_line_error(capsys, ["eval", str(digits_run), "--metric", "fid", "--inception-weights", str(weights),
                                  "-n", "4"])
    assert 'pip install "pyganzoo[fid]"' in err
