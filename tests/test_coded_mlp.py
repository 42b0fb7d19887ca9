"""InfoGAN's information term on the MLP networks: a generator whose categorical prior is a readable code, a
discriminator with a Q head, and the 2-D recipes built on them."""

from __future__ import annotations

import json
from typing import Any

import pytest
import torch
from helpers_training import assert_one_line_error, set_args, tiny

import ganzoo
from ganzoo.cli.main import main
from ganzoo.weights import load_module
from ganzoo.plugin import DBatch, DOutput, GBatch
from ganzoo_infogan.loss import InfoGANLoss
from ganzoo_infogan.options import InfoGANLossOptions
from ganzoo_mlp.models import CodedMLPGenerator, MLPDiscriminator

pytestmark = pytest.mark.usefixtures("one_thread")


def test_a_categorical_generator_reads_its_code_off_z_and_draws_with_it() -> None:
    coded = ganzoo.build_generator("mlp", shape=(2,), latent_dim=4, categorical=3, hidden_dims=[8])
    plain = ganzoo.build_generator("mlp", shape=(2,), latent_dim=4, hidden_dims=[8])
    assert isinstance(coded, CodedMLPGenerator) and not isinstance(plain, CodedMLPGenerator)
    assert not hasattr(plain, "latent_codes")  # plain noise: no code for a loss to ask about
    torch.manual_seed(0)
    z = torch.randn(3000, 7)
    codes = coded.latent_codes(z)
    assert torch.equal(codes["categorical"], z[:, 4:].argmax(dim=1)) and codes["continuous"].shape == (3000, 0)
    share = torch.bincount(codes["categorical"], minlength=3) / len(z)
    assert torch.all((share - 1 / 3).abs() < 0.04)  # uniform over the 3 values
    # the net sees the value, not the block's other entries: same noise and value, same sample
    other = z.clone()
    other[:, 4:] = torch.nn.functional.one_hot(codes["categorical"], 3) * 5.0 - 1.0
    assert torch.equal(coded(z[:8]), coded(other[:8]))


def test_the_q_head_reads_the_last_hidden_features_not_the_logit() -> None:
    D = ganzoo.build_discriminator("mlp", shape=(2,), hidden_dims=[8, 8], codes=5, minibatch_std=2)
    assert isinstance(D, MLPDiscriminator)
    out = D(torch.randn(6, 2))
    assert set(out) == {"logits", "codes"} and out["logits"].shape == (6,) and out["codes"].shape == (6, 5)
    out["codes"].sum().backward()
    assert D.net[-1].weight.grad is None  # the logit's layer (which reads the minibatch-std feature) is not in Q
    assert D.net[0].weight.grad is not None and D.q.weight.grad.abs().sum() > 0
    plain = ganzoo.build_discriminator("mlp", shape=(2,), hidden_dims=[8])
    assert plain(torch.randn(4, 2)).shape == (4,)


@pytest.mark.parametrize("sets, says", [
    (["discriminator.codes=7"], "codes = 7, but generator 'mlp' has 8 code outputs"),
    (["discriminator.pack=2"], "allowed with a Q head: pack = 1"),
    (["discriminator.codes=0"], "needs the discriminator's 'codes' output"),
    (["generator.categorical=0"], "needs the generator's 'codes' latent part"),
])
def test_mismatched_codes_are_refused_at_validation(sets: list[str], says: str, capsys) -> None:
    assert main(["validate", "infogan-ring8", *set_args(sets)]) == 2
    assert_one_line_error(capsys.readouterr().err, says)


def test_a_q_head_may_also_read_the_infogan_generators_codes(capsys) -> None:
    sets = ['generator={name = "infogan", categorical = 4, continuous = 1, width = 8}', "discriminator.codes=5",
            'data={name = "digits", image_size = 8}']
    assert main(["validate", "infogan-ring8", *set_args(sets)]) == 0
    assert main(["validate", "infogan-ring8", *set_args([*sets[:1], "discriminator.codes=4", sets[2]])]) == 2
    assert_one_line_error(capsys.readouterr().err, "allowed: codes = 5")


def q_accuracy(run: Any) -> float:
    """How often D's Q head names the code value that drew a fake, from the run's weights on disk."""
    G = ganzoo.load_generator(run / "generator.safetensors")  # rebuilt from the weights' card: the coded kind
    D, _ = load_module(run, role="discriminator")
    assert isinstance(G, CodedMLPGenerator)
    G.eval(), D.eval()
    with torch.no_grad():
        z = torch.randn(2000, G.latent_dim, generator=torch.Generator().manual_seed(1))
        guess = D(G(z))["codes"].argmax(dim=1)
    return float((guess == G.latent_codes(z)["categorical"]).float().mean())


def test_training_teaches_q_to_tell_the_code_values_apart(tmp_path, capsys) -> None:
    """The information term does its work: after a short run on the ring, Q names the value that drew a fake
    far above chance (1 in 8), and G keeps the values apart enough for it to."""
    run = tmp_path / "ring"
    sets = tiny("infogan-ring8", steps=600, batch_size=64, log_every=100)
    sets += ["generator.hidden_dims=[64, 64]", "discriminator.hidden_dims=[64, 64]", "optim.generator.lr=2e-3",
             "optim.discriminator.lr=2e-3"]  # chance at 300 steps and 2e-4; 1.0 here (0.998 at 1e-3, 1,000 steps)
    assert main(["run", "infogan-ring8", "--quiet", "--out", str(run), *set_args(sets)]) == 0
    assert q_accuracy(run) > 0.9
    assert main(["eval", str(run), "--metric", "mode-coverage", "-n", "500", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)["metrics"]["mode-coverage"]
    assert figures["total_modes"] == 8 and 0 <= figures["modes"] <= 8


def test_the_information_weights_fall_to_zero_from_decay_from() -> None:
    loss = InfoGANLoss(InfoGANLossOptions(decay_from=0.6))
    assert [loss.schedule(p) for p in (0.0, 0.6)] == [1.0, 1.0]
    assert loss.schedule(0.8) == pytest.approx(0.5) and loss.schedule(1.0) == 0.0
    assert InfoGANLoss(InfoGANLossOptions()).schedule(0.99) == 1.0  # the paper's: constant


def test_the_information_terms_are_off_before_start_from_real_images_term_included() -> None:
    loss = InfoGANLoss(InfoGANLossOptions(start_from=0.2, real_weight=1.0))
    assert [loss.schedule(p) for p in (0.0, 0.19, 0.2, 0.9)] == [0.0, 0.0, 1.0, 1.0]
    plain = InfoGANLoss(InfoGANLossOptions(categorical_weight=0.0, continuous_weight=0.0))  # the GAN loss alone
    torch.manual_seed(0)
    codes = {"categorical": torch.randint(0, 3, (6,)), "continuous": torch.randn(6, 1)}
    real, fake = (DOutput(torch.randn(6), {"codes": torch.randn(6, 4)}) for _ in range(2))
    for progress, on in ((0.1, False), (0.5, True)):
        batch = DBatch(real=None, fake=None, labels=None, real_out=real, fake_out=fake, critic=None, codes=codes,
                       progress=progress)
        assert torch.equal(loss.d_objective(batch), plain.d_objective(batch)) is not on
        g_batch = GBatch(fake=None, labels=None, fake_out=fake, real_out=None, codes=codes, progress=progress)
        assert torch.equal(loss.g_objective(g_batch), plain.g_objective(g_batch)) is not on


@pytest.mark.parametrize("sets", [["loss.start_from=0.5", "loss.decay_from=0.4"], ["loss.start_from=1.0"]])
def test_a_start_not_before_the_fade_is_one_line(capsys, sets) -> None:
    assert main(["validate", "infogan-digits", *set_args(sets)]) == 2
    err = capsys.readouterr().err
    assert_one_line_error(err, "loss", "start_from", "allowed: start_from < decay_from")


def test_losses_see_the_share_of_the_run_done_in_both_steps(tmp_path, monkeypatch) -> None:
    seen: dict[str, list[float]] = {"d": [], "g": []}
    d_objective, g_objective = InfoGANLoss.d_objective, InfoGANLoss.g_objective
    monkeypatch.setattr(InfoGANLoss, "d_objective", lambda self, b: seen["d"].append(b.progress) or d_objective(self, b))
    monkeypatch.setattr(InfoGANLoss, "g_objective", lambda self, b: seen["g"].append(b.progress) or g_objective(self, b))
    sets = tiny("infogan-ring8", steps=4, batch_size=8) + ["train.d_steps=2", "train.g_top_k=0.5"]
    assert main(["run", "infogan-ring8", "--quiet", "--out", str(tmp_path / "run"), *set_args(sets)]) == 0
    assert seen == {"d": [0.0, 0.0, 0.25, 0.25, 0.5, 0.5, 0.75, 0.75], "g": [0.0, 0.25, 0.5, 0.75]}
