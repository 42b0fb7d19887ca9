"""The built-in losses against facts that hold independently of any implementation: known values, the
saturation of the minimax generator loss, the optimal discriminator, and hand-computed gradient penalties."""

from __future__ import annotations

import math
import subprocess
import sys
from typing import Any

import pluggy
import pytest
import torch
from torch import nn

import ganzoo_losses
from ganzoo.components import Component, GANLoss
from ganzoo_losses.hinge import HingeLoss
from ganzoo_losses.least_squares import LeastSquaresLoss
from ganzoo_losses.logistic import MinimaxLoss, NonSaturatingLoss
from ganzoo_losses.options import LeastSquaresOptions, WassersteinOptions
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
        WassersteinLoss(WassersteinOptions(lipschitz="gradient-penalty")),
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
    assert set(found) == {"minimax", "non-saturating", "wasserstein", "hinge", "least-squares"}
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
    }


def test_wasserstein_options_validate() -> None:
    from ganzoo.errors import RecipeError

    component = registered()["wasserstein"]
    options = component.parse({"lipschitz": "gradient-penalty", "gp_weight": 5})
    assert options.gp_weight == 5.0 and options.clip == 0.01
    with pytest.raises(RecipeError, match="lipschitz"):
        component.parse({"lipschitz": "spectral"})
    with pytest.raises(RecipeError, match="clip"):
        component.parse({"clip": 0})


def test_importing_the_plugin_does_not_import_torch() -> None:
    code = (
        "import sys, ganzoo_losses\n"
        "found = []\n"
        "ganzoo_losses.register_losses(lambda name, factory, **kw: found.append(name))\n"
        "assert len(found) == 5, found\n"
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


def test_logistic_and_critic_losses_have_no_regulariser() -> None:
    for loss in (MinimaxLoss(), NonSaturatingLoss(), HingeLoss(), LeastSquaresLoss()):
        assert loss.penalty(lambda x, c: x.sum(1), torch.zeros(2, 2), torch.zeros(2, 2), None) is None


# ---------------------------------------------------------------- Lipschitz constraints


def gp_loss(weight: float = 10.0) -> WassersteinLoss:
    return WassersteinLoss(WassersteinOptions(lipschitz="gradient-penalty", gp_weight=weight))


def test_gradient_penalty_of_a_linear_critic_is_hand_computable() -> None:
    """f(x) = w . x has gradient w at every point: penalty = lambda (||w|| - 1)^2 whatever the alpha,
    and its gradient w.r.t. w is lambda 2 (||w|| - 1) w / ||w||, which only exists with create_graph."""
    torch.manual_seed(0)
    w = torch.randn(3, 4, 4, requires_grad=True)
    real, fake = torch.randn(6, 3, 4, 4), torch.randn(6, 3, 4, 4)
    penalty = gp_loss(10.0).penalty(lambda x, c: (x * w).sum(dim=(1, 2, 3)), real, fake, None)
    norm = w.detach().norm()
    assert float(penalty.detach()) == pytest.approx(float(10.0 * (norm - 1) ** 2), rel=1e-5)
    penalty.backward()
    assert torch.allclose(w.grad, 10.0 * 2 * (norm - 1) * w.detach() / norm, rtol=1e-4)


def test_gradient_penalty_takes_the_norm_per_sample() -> None:
    """f(x) = k/2 sum(x^2) has gradient k x: with real = fake, x_hat = real whatever the alpha, and the
    per-sample norms k ||x_i|| differ, so a batch-wide norm or a wrong reduction gives another number."""
    k = 0.5
    real = torch.stack([torch.full((2, 3, 3), v) for v in (0.1, 0.4, 1.0)])  # norms 0.3 sqrt(2) ...
    penalty = gp_loss(2.0).penalty(lambda x, c: 0.5 * k * x.square().flatten(1).sum(1), real, real.clone(), None)
    norms = k * real.flatten(1).norm(dim=1)
    expected = 2.0 * ((norms - 1) ** 2).mean()
    assert float(penalty.detach()) == pytest.approx(float(expected), rel=1e-5)
    batch_norm = k * real.norm()
    assert abs(float(expected) - float(2.0 * (batch_norm - 1) ** 2)) > 0.1  # the test can tell them apart


@pytest.mark.parametrize("shape", [(5, 2), (5, 3, 4, 4), (5, 1, 2, 3, 4)])
def test_gradient_penalty_draws_one_interpolation_weight_per_sample(shape: tuple[int, ...]) -> None:
    seen: list[torch.Tensor] = []

    def critic(x: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        seen.append(x.detach())
        return x.flatten(1).sum(1)

    gp_loss().penalty(critic, torch.ones(shape), torch.zeros(shape), None)
    (x_hat,) = seen
    alpha = x_hat.flatten(1)  # alpha * 1 + (1 - alpha) * 0, per element
    assert torch.allclose(alpha, alpha[:, :1].expand_as(alpha)), "weight varies within a sample"
    assert alpha[:, 0].unique().numel() == shape[0], "samples share a weight"
    assert ((alpha >= 0) & (alpha <= 1)).all()


def test_gradient_penalty_passes_the_condition_and_detaches_the_generator() -> None:
    received: list[Any] = []
    fake = torch.randn(4, 2, requires_grad=True)
    labels = torch.tensor([0, 1, 2, 3])
    w = torch.ones(2, requires_grad=True)

    def critic(x: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        received.append(c)
        return (x * w * (1 + c.float()[:, None])).sum(1)

    penalty = gp_loss(1.0).penalty(critic, torch.randn(4, 2), fake, labels)
    assert received[0] is labels
    # gradient norm of sample i is (1 + i) sqrt(2)
    expected = ((torch.arange(1.0, 5.0) * math.sqrt(2) - 1) ** 2).mean()
    assert float(penalty.detach()) == pytest.approx(float(expected), rel=1e-5)
    penalty.backward()
    assert fake.grad is None and w.grad is not None


def test_gradient_penalty_is_float32_and_finite_under_bf16_autocast() -> None:
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Flatten(), nn.Linear(12, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1), nn.Flatten(0))
    real, fake = torch.randn(8, 3, 2, 2), torch.randn(8, 3, 2, 2)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert critic(real).dtype == torch.bfloat16  # autocast is really on
        penalty = gp_loss().penalty(lambda x, c: critic(x), real, fake, None)
    assert penalty.dtype == torch.float32 and torch.isfinite(penalty)
    penalty.backward()
    first = critic[1].weight.grad
    assert first is not None and torch.isfinite(first).all() and first.abs().sum() > 0


def test_weight_clipping_bounds_every_parameter() -> None:
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.Linear(8, 1))
    with torch.no_grad():
        for p in critic.parameters():
            p.mul_(0).add_(torch.randn_like(p))  # well outside the bound
    loss = WassersteinLoss(WassersteinOptions(clip=0.05))
    assert loss.penalty(critic, torch.zeros(2, 4), torch.zeros(2, 4), None) is None
    loss.after_d_step(critic)
    for p in critic.parameters():
        assert p.abs().max() <= 0.05 + 1e-8
        assert (p.abs() == 0.05).any()  # clamped, not rescaled
        assert p.requires_grad and p.grad is None


def test_gradient_penalty_mode_does_not_clip() -> None:
    critic = nn.Linear(3, 1)
    with torch.no_grad():
        critic.weight.fill_(2.0)
    gp_loss().after_d_step(critic)
    assert float(critic.weight.detach().max()) == 2.0


class RecordingCritic(nn.Module):
    """A small critic that records the dtype its layers compute in."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
        self.dtypes: list[torch.dtype] = []

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        out = self.layers(x)
        self.dtypes.append(out.dtype)
        return out.squeeze(1)


def test_gradient_penalty_is_float32_inside_accelerate_mixed_precision() -> None:
    """accelerate's bf16 patches the model's forward to enter autocast itself; the penalty must still run
    the critic in float32, while the D loss forward stays in bf16."""
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState, GradientState

    AcceleratorState._reset_state(reset_partial_state=False)
    GradientState._reset_state()
    try:
        critic = Accelerator(cpu=True, mixed_precision="bf16").prepare(RecordingCritic())
        critic(torch.randn(3, 4))
        assert critic.dtypes == [torch.bfloat16]  # the patch is in place
        penalty = gp_loss().penalty(critic, torch.randn(3, 4), torch.randn(3, 4), None)
        assert critic.dtypes[1:] == [torch.float32] and penalty.dtype == torch.float32
        penalty.backward()
        assert torch.isfinite(critic.layers[0].weight.grad).all()
    finally:
        AcceleratorState._reset_state(reset_partial_state=False)
        GradientState._reset_state()


def test_gradient_penalty_works_through_torch_compile() -> None:
    """torch.compile has no double backward: the penalty must differentiate the plain module."""
    critic = RecordingCritic()
    compiled = torch.compile(critic)
    penalty = gp_loss().penalty(compiled, torch.randn(3, 4), torch.randn(3, 4), None)
    penalty.backward()
    assert critic.layers[0].weight.grad is not None
