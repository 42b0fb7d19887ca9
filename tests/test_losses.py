"""The built-in losses against facts that hold independently of any implementation: known values, the
saturation of the minimax generator loss, the optimal discriminator (the penalties: test_regularizers.py)."""

from __future__ import annotations

import math
import subprocess
import sys
from typing import Any

import pluggy
import pytest
import torch

import ganzoo_losses
from ganzoo.components import Component, GANLoss
from ganzoo_losses.hinge import HingeLoss
from ganzoo_losses.least_squares import LeastSquaresLoss
from ganzoo_losses.logistic import MinimaxLoss, NonSaturatingLoss
from ganzoo_losses.options import LeastSquaresOptions
from ganzoo_losses.wasserstein import WassersteinLoss

LOG4 = math.log(4.0)


def registered() -> dict[str, Component]:
    import ganzoo.hookspecs

    pm = pluggy.PluginManager("ganzoo")
    pm.add_hookspecs(ganzoo.hookspecs)
    pm.register(ganzoo_losses)
    found: dict[str, Component] = {}

    def register(name: str, factory: Any, *, description: str, **support: Any) -> None:
        found[name] = Component("loss", name, factory, description, plugin="losses", **support)

    pm.hook.register_losses(register=register)
    return found


def all_losses() -> list[GANLoss]:
    return [
        MinimaxLoss(),
        NonSaturatingLoss(),
        WassersteinLoss(),
        HingeLoss(),
        LeastSquaresLoss(),
    ]


def grad_wrt(fn: Any, value: float) -> float:
    logit = torch.tensor([value], requires_grad=True)
    fn(logit).backward()
    return float(logit.grad[0])


# ---------------------------------------------------------------- registration


def test_every_loss_registers_and_builds_from_default_options() -> None:
    found = registered()
    assert set(found) == {"minimax", "non-saturating", "wasserstein", "hinge", "least-squares", "rpgan"}
    kinds = {}
    for name, component in found.items():
        assert component.description and "\n" not in component.description
        loss = component.load_factory()(component.parse({}))
        assert isinstance(loss, GANLoss)
        kinds[name] = loss.kind
    assert kinds == {
        "minimax": "logistic",
        "non-saturating": "logistic",
        "wasserstein": "critic",
        "hinge": "critic",
        "least-squares": "critic",
        "rpgan": "critic",
    }


def test_wasserstein_is_the_pure_objective_and_its_old_options_say_what_to_write() -> None:
    from ganzoo.errors import RecipeError

    component = registered()["wasserstein"]
    component.parse({})
    for old in ("lipschitz", "clip", "gp_weight"):
        with pytest.raises(RecipeError, match=r"\[\[regularizer\]\] name = \"gradient-penalty\"") as err:
            component.parse({old: 1})
        assert f"loss.{old}" in str(err.value) and "\n" not in str(err.value)


def test_importing_the_plugin_does_not_import_torch() -> None:
    code = (
        "import sys, ganzoo_losses\n"
        "found = []\n"
        "ganzoo_losses.register_losses(lambda name, factory, **kw: found.append(name))\n"
        "assert len(found) == 6, found\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------- logistic losses


@pytest.mark.parametrize("loss", [MinimaxLoss(), NonSaturatingLoss()])
def test_discriminator_loss_is_log4_when_d_is_one_half(loss: GANLoss) -> None:
    zeros = torch.zeros(7)
    assert float(loss.d_loss(zeros, torch.zeros(5))) == pytest.approx(LOG4, abs=1e-6)


def test_logistic_losses_match_the_textbook_formulas() -> None:
    real, fake = torch.tensor([2.0, -1.0, 0.5]), torch.tensor([-3.0, 1.5])
    d_real, d_fake = torch.sigmoid(real), torch.sigmoid(fake)
    expected_d = -(d_real.log().mean() + (1 - d_fake).log().mean())
    for loss in (MinimaxLoss(), NonSaturatingLoss()):
        assert float(loss.d_loss(real, fake)) == pytest.approx(float(expected_d), rel=1e-6)
    assert float(MinimaxLoss().g_loss(fake)) == pytest.approx(float((1 - d_fake).log().mean()), rel=1e-6)
    assert float(NonSaturatingLoss().g_loss(fake)) == pytest.approx(float(-d_fake.log().mean()), rel=1e-6)


def test_saturating_generator_gradient_vanishes_when_d_rejects_fakes() -> None:
    """The reason the non-saturating loss exists: at D(G(z)) = sigmoid(-20) ~ 2e-9."""
    saturating = grad_wrt(MinimaxLoss().g_loss, -20.0)
    non_saturating = grad_wrt(NonSaturatingLoss().g_loss, -20.0)
    assert abs(saturating) < 1e-8
    assert abs(non_saturating) == pytest.approx(1.0, abs=1e-6)
    # both push the logit the same way (up: minimising means a negative gradient)
    assert saturating < 0 and non_saturating < 0
    # and where D is fooled the roles swap: the saturating loss has the large gradient
    assert abs(grad_wrt(MinimaxLoss().g_loss, 20.0)) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("value", [100.0, -100.0])
def test_losses_and_gradients_stay_finite_at_extreme_logits(value: float) -> None:
    for loss in all_losses():
        real = torch.full((4,), value, requires_grad=True)
        fake = torch.full((4,), -value, requires_grad=True)
        total = loss.d_loss(real, fake) + loss.g_loss(fake)
        total.backward()
        assert torch.isfinite(total), type(loss).__name__
        assert torch.isfinite(real.grad).all() and torch.isfinite(fake.grad).all(), type(loss).__name__


def test_optimal_discriminator_is_p_data_over_p_data_plus_p_g() -> None:
    """A free logit per point of a 5-point space, trained with the D loss on the exact expectations
    (each point repeated in proportion to its probability), must reach sigmoid = p_data / (p_data + p_g)."""
    p_data = torch.tensor([4, 3, 2, 1, 0])  # tenths
    p_g = torch.tensor([1, 1, 2, 3, 3])
    points = torch.arange(5)
    real_index, fake_index = points.repeat_interleave(p_data), points.repeat_interleave(p_g)
    logits = torch.zeros(5, requires_grad=True)
    optimiser = torch.optim.LBFGS([logits], lr=1.0, max_iter=100, tolerance_grad=1e-9, tolerance_change=1e-12)
    loss = MinimaxLoss()

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        value = loss.d_loss(logits[real_index], logits[fake_index])
        value.backward()
        return value

    optimiser.step(closure)
    optimal = p_data / (p_data + p_g)
    d = torch.sigmoid(logits.detach())
    assert torch.allclose(d[:4], optimal[:4].float(), atol=1e-3), (d, optimal)
    assert d[4] < 0.05  # p_data = 0 there: D -> 0 (the logit only diverges slowly)


# ---------------------------------------------------------------- critic losses on hand-made tensors


def test_wasserstein_formulas() -> None:
    real, fake = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([0.0, 1.0])
    loss = WassersteinLoss()
    assert float(loss.d_loss(real, fake)) == pytest.approx(0.5 - 2.0)
    assert float(loss.g_loss(fake)) == pytest.approx(-0.5)


def test_hinge_formulas() -> None:
    real, fake = torch.tensor([2.0, 0.5]), torch.tensor([-2.0, 0.5])
    loss = HingeLoss()
    # relu(1 - real) = [0, 0.5] -> 0.25; relu(1 + fake) = [0, 1.5] -> 0.75
    assert float(loss.d_loss(real, fake)) == pytest.approx(1.0)
    assert float(loss.g_loss(fake)) == pytest.approx(0.75)


def test_least_squares_formulas() -> None:
    real, fake = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    loss = LeastSquaresLoss()
    assert float(loss.d_loss(real, fake)) == pytest.approx(0.5 * 0.5 + 0.5 * 0.5)
    assert float(loss.g_loss(fake)) == pytest.approx(0.5 * 0.5)
    assert float(loss.d_loss(torch.ones(3), torch.zeros(3))) == 0.0  # D at its targets
    other = LeastSquaresLoss(LeastSquaresOptions(fake_target=-1.0, real_target=1.0, generator_target=0.0))
    assert float(other.d_loss(torch.tensor([1.0]), torch.tensor([1.0]))) == pytest.approx(0.5 * 4)
    assert float(other.g_loss(torch.tensor([2.0]))) == pytest.approx(0.5 * 4)
