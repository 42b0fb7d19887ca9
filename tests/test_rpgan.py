"""The relativistic pairing loss (rpgan): its formulas on hand-made logits, the direction of its gradients,
the pairing (sample i with sample i), and the recipe check that refuses a discriminator that packs samples."""

from __future__ import annotations

import math

import pytest
import torch

import ganzoo
from ganzoo.cli.main import main
from ganzoo_losses.relativistic import RelativisticPairingLoss
from helpers_training import assert_one_line_error, set_args, tiny


def softplus(v: float) -> float:
    return math.log1p(math.exp(v))


def test_values_on_hand_made_logits():
    loss = RelativisticPairingLoss()
    real, fake = torch.tensor([2.0, -1.0, 0.5]), torch.tensor([0.0, 1.0, 0.5])
    # differences real - fake: 2, -2, 0
    expected_d = (softplus(-2.0) + softplus(2.0) + softplus(0.0)) / 3
    expected_g = (softplus(2.0) + softplus(-2.0) + softplus(0.0)) / 3  # softplus(-(fake - real))
    assert float(loss.d_loss(real, fake)) == pytest.approx(expected_d, rel=1e-6)
    assert float(loss.relativistic_g_loss(fake, real)) == pytest.approx(expected_g, rel=1e-6)
    # equal logits: both players at log 2, whatever the level (only differences count)
    same = torch.full((4,), 7.5)
    assert float(loss.d_loss(same, same)) == pytest.approx(math.log(2.0))
    assert float(loss.relativistic_g_loss(same, same)) == pytest.approx(math.log(2.0))


def test_pairs_sample_by_sample_not_batch_means():
    """Swapping the fakes' order changes the loss: a pairing loss, not a function of the two batch means."""
    loss = RelativisticPairingLoss()
    real, fake = torch.tensor([3.0, -3.0]), torch.tensor([-3.0, 3.0])
    swapped = fake.flip(0)
    assert float(loss.d_loss(real, fake)) != pytest.approx(float(loss.d_loss(real, swapped)))
    assert float(loss.d_loss(real, swapped)) == pytest.approx(softplus(0.0))


def test_gradient_signs():
    """D's loss falls as reals score above fakes; G's falls as its fakes score above the reals."""
    loss = RelativisticPairingLoss()
    real = torch.tensor([0.3, -0.2], requires_grad=True)
    fake = torch.tensor([0.1, 0.4], requires_grad=True)
    loss.d_loss(real, fake).backward()
    assert (real.grad < 0).all() and (fake.grad > 0).all()
    fake_g = fake.detach().clone().requires_grad_(True)
    loss.relativistic_g_loss(fake_g, real.detach()).backward()
    assert (fake_g.grad < 0).all()


def test_unequal_batches_and_missing_reals_are_refused():
    loss = RelativisticPairingLoss()
    with pytest.raises(ValueError, match="sample by sample"):
        loss.d_loss(torch.zeros(4), torch.zeros(2))
    with pytest.raises(ValueError, match="sample by sample"):
        loss.relativistic_g_loss(torch.zeros(4), torch.zeros(3))
    built = ganzoo.registries().component("loss", "rpgan")
    assert built.needs.real_logits and RelativisticPairingLoss.family == "critic"


def test_a_packing_discriminator_is_refused_at_validation(capsys):
    assert main(["validate", "pacgan-ring8", "--set", 'loss.name="rpgan"']) == 2
    assert_one_line_error(capsys.readouterr().err, "loss:", "rpgan", "pack = 2", "allowed: pack = 1")


def test_rpgan_trains_through_the_cli(tmp_path, capsys):
    """The trainer hands G's step D's logits on reals (needs_real_logits)."""
    run_dir = tmp_path / "run"
    sets = tiny("vanilla-ring8", steps=3, extra=['loss.name="rpgan"'])
    assert main(["run", "vanilla-ring8", *set_args(sets), "--out", str(run_dir), "--quiet"]) == 0
    recipe = (run_dir / "recipe.toml").read_text()
    assert 'name = "rpgan"' in recipe
