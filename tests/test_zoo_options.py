"""Options the zoo's recipes lean on (issue 24): ACGAN's real-only class loss and TAC-GAN's twin head, a
critic with no normalisation (WGAN-GP), and a categorical part of the prior for the DCGAN and MLP generators.
Each is exercised the way a recipe uses it: validation through the CLI, a tiny run with a weights file read
back, and the objective's gradients where the option's whole point is what a gradient reaches."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from helpers_training import assert_one_line_error, run_cli, set_args, tiny
from safetensors.torch import load_file

import ganzoo
from ganzoo.cli.main import main
from ganzoo.components import DBatch, DOutput, GBatch

pytestmark = pytest.mark.usefixtures("one_thread")


def _outputs(n: int, classes: int, *, requires_grad: bool) -> DOutput:
    extras = {"class_logits": torch.randn(n, classes), "twin_logits": torch.randn(n, classes)}
    return DOutput(torch.randn(n), {k: v.requires_grad_(requires_grad) for k, v in extras.items()})


def test_acgan_with_fake_class_weight_0_trains_its_class_head_on_reals_only() -> None:
    labels = torch.randint(0, 10, (16,))
    real, fake = _outputs(16, 10, requires_grad=True), _outputs(16, 10, requires_grad=True)
    batch = DBatch(real=torch.zeros(16, 1), fake=torch.zeros(16, 1), labels=labels, real_out=real, fake_out=fake,
                   critic=None, codes=None)
    ganzoo.build_loss("acgan", fake_class_weight=0.0).d_objective(batch).backward()
    assert fake["class_logits"].grad is None and real["class_logits"].grad.abs().sum() > 0
    ganzoo.build_loss("acgan").d_objective(batch).backward()  # the paper's default: fakes too
    assert fake["class_logits"].grad.abs().sum() > 0


def test_tac_trains_the_twin_head_on_fakes_for_d_and_against_it_for_g() -> None:
    labels = torch.randint(0, 10, (16,))
    tac, acgan = ganzoo.build_loss("tac"), ganzoo.build_loss("acgan")
    real, fake = _outputs(16, 10, requires_grad=False), _outputs(16, 10, requires_grad=False)
    batch = DBatch(real=torch.zeros(16, 1), fake=torch.zeros(16, 1), labels=labels, real_out=real, fake_out=fake,
                   critic=None, codes=None)
    twin = torch.nn.functional.cross_entropy(fake["twin_logits"], labels)
    assert torch.allclose(tac.d_objective(batch), acgan.d_objective(batch) + twin)
    g_batch = GBatch(fake=torch.zeros(16, 1), labels=labels, fake_out=fake, real_out=None, codes=None)
    assert torch.allclose(tac.g_objective(g_batch), acgan.g_objective(g_batch) - twin)


def test_tac_without_a_twin_head_is_refused_in_one_line(capsys: Any) -> None:
    assert main(["validate", "acgan-digits", "--set", 'loss.name="tac"', "--set", "discriminator.twin=false"]) == 2
    err = capsys.readouterr().err
    assert_one_line_error(err)
    assert "'twin_logits'" in err and "discriminator 'acgan'" in err


def test_a_tac_run_writes_the_twin_head_and_samples_by_class(tmp_path) -> None:
    run = tmp_path / "tac"
    done = run_cli("run", "acgan-digits", "--out", str(run), "--quiet",
                   *set_args(tiny("acgan-digits", extra=['loss.name="tac"', "discriminator.twin=true",
                                                         "discriminator.minibatch_std=4"])), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    names = load_file(run / "discriminator.safetensors")
    assert any(key.startswith("heads.twin_logits") for key in names)
    assert run_cli("sample", str(run), "--class", "3", "-n", "4", "--out", str(tmp_path / "x.png"), cwd=tmp_path).returncode == 0


def test_a_dcgan_critic_without_batch_norm_has_no_normalisation_at_all() -> None:
    plain = ganzoo.build_discriminator("dcgan", shape=(1, 16, 16), width=8, batch_norm=False)
    default = ganzoo.build_discriminator("dcgan", shape=(1, 16, 16), width=8)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in plain.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in default.modules())
    x = torch.randn(4, 1, 16, 16)
    # one sample's score does not depend on the rest of the batch: what a gradient penalty per sample assumes
    assert torch.allclose(plain(x)[:1], plain(x[:1]), atol=1e-6)


@pytest.mark.parametrize("name, shape, extra", [
    ("dcgan", (1, 16, 16), {"width": 8, "latent_dim": 6}),
    ("mlp", (2,), {"hidden_dims": [16], "latent_dim": 6}),
])
def test_a_categorical_prior_reads_its_code_off_the_arg_max_of_z(name: str, shape: tuple[int, ...],
                                                                  extra: dict[str, Any]) -> None:
    G = ganzoo.build_generator(name, shape=shape, categorical=5, **extra).eval()
    assert G.latent_dim == 6 + 5  # a sampler of standard normal z draws from the prior unaided
    z = torch.randn(8, 11)
    same = z.clone()
    same[:, 6:] = -5.0
    same[torch.arange(8), 6 + z[:, 6:].argmax(dim=1)] = 3.0  # other values, the same arg-max
    assert torch.allclose(G(z), G(same), atol=1e-6)
    other = same.clone()
    other[:, 6:] = torch.roll(same[:, 6:], 1, dims=1)  # another code value for every row
    assert not torch.allclose(G(z), G(other), atol=1e-4)


def test_a_recipe_with_a_categorical_prior_trains_and_samples(tmp_path) -> None:
    run = tmp_path / "cat"
    done = run_cli("run", "dcgan-digits", "--out", str(run), "--quiet",
                   *set_args(tiny("dcgan-digits", extra=["generator.categorical=10"])), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert load_file(run / "generator.safetensors")  # a plain weights file
    assert run_cli("sample", str(run), "-n", "4", "--out", str(tmp_path / "x.png"), cwd=tmp_path).returncode == 0


class _RecordingD(torch.nn.Module):
    """An ACGAN discriminator that keeps the labels of every batch it is shown."""

    def __init__(self) -> None:
        super().__init__()
        self.inner = ganzoo.build_discriminator("acgan", shape=(1, 16, 16), num_classes=10, width=8, minibatch_std=4)
        self.num_classes, self.seen = 10, []

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> Any:
        self.seen.append(c.clone())
        return self.inner(x, c)


@pytest.mark.parametrize("g_step_fakes", ["shared", "fresh"])
def test_group_by_class_shows_d_each_half_of_a_batch_in_class_order(tmp_path, g_step_fakes: str) -> None:
    G = ganzoo.build_generator("dcgan", shape=(1, 16, 16), num_classes=10, latent_dim=8, width=8)
    D = _RecordingD()
    data = ganzoo.build_dataset("digits", image_size=16)
    ganzoo.Trainer(G, D, "acgan", data, steps=3, batch_size=16, device="cpu", run_dir=tmp_path / "run",
                   group_by_class=True, g_step_fakes=g_step_fakes, sample_every=0).fit()
    assert len(D.seen) >= 6
    for labels in D.seen:  # [reals; fakes] in the critic step, the fakes alone in G's (eval-mode) step
        for half in labels.split(16):
            assert torch.equal(half, half.sort().values)
    assert any(len(set(labels.tolist())) > 1 for labels in D.seen)  # not one class drawn over and over


def test_group_by_class_on_an_unconditional_recipe_is_refused(capsys: Any) -> None:
    assert main(["validate", "vanilla-ring8", "--set", "train.group_by_class=true"]) == 2
    err = capsys.readouterr().err
    assert_one_line_error(err)
    assert "train.group_by_class" in err and "conditional = true or clusters > 0" in err
    assert main(["validate", "dcgan-digits"]) == 0  # self-conditioned: its batches carry the clusters


def test_a_projection_mlp_discriminator_scores_the_class_and_trains(tmp_path) -> None:
    D = ganzoo.build_discriminator("mlp", shape=(1, 16, 16), num_classes=10, hidden_dims=[16],
                                   conditioning="projection", minibatch_std=2)
    assert D.embed is None and D.project.weight.shape == (10, 16)
    x = torch.randn(4, 1, 16, 16)
    with torch.no_grad():
        D.project.weight.normal_()
    assert not torch.allclose(D(x, torch.tensor([0, 0, 0, 0])), D(x, torch.tensor([1, 1, 1, 1])))
    run = tmp_path / "cmlp"
    done = run_cli("run", "cmlp-digits", "--out", str(run), "--quiet",
                   *set_args(tiny("cmlp-digits", extra=['discriminator.conditioning="projection"'])), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert any(key.startswith("project.") for key in load_file(run / "discriminator.safetensors"))


def test_projection_with_packing_is_refused_in_one_line(capsys: Any) -> None:
    assert main(["validate", "cmlp-digits", "--set", 'discriminator.conditioning="projection"',
                 "--set", "discriminator.pack=2"]) == 2
    err = capsys.readouterr().err
    assert_one_line_error(err)
    assert "discriminator" in err and "pack = 2" in err and '"concat"' in err
