"""The built-in regularisers against hand-computed values, their schedule (weight, lazy ``every``) in the
trainer, and the recipe's ``[[regularizer]]`` list with its checks."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch
from torch import nn

import ganzoo
from ganzoo.components import DBatch, Regularization, Regularizer
from ganzoo.recipe import load_recipe
from ganzoo.training.distributed import plain_forward
from ganzoo_regularizers.clip import WeightClip
from ganzoo_regularizers.options import ClipOptions, DraganOptions, GradientPenaltyOptions
from ganzoo_regularizers.penalties import R1, R2, Dragan, GradientPenalty

from helpers_training import recipe_path

from ganzoo.cli.main import main


def run_cli(args: list[str], capsys: Any, stream: str = "err") -> tuple[int, str]:
    """``ganzoo ARGS`` in-process: the exit status and what it wrote to ``stream``."""
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.err if stream == "err" else captured.out


def tiny_mlp() -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(0)
    G = ganzoo.build_generator("mlp", shape=(2,), latent_dim=4, hidden_dims=[16])
    D = ganzoo.build_discriminator("mlp", shape=(2,), hidden_dims=[16])
    return G, D


def term(regularizer: Regularizer, critic: Any, real: torch.Tensor, fake: torch.Tensor, c: Any = None,
         weight: float = 1.0, every: int = 1) -> torch.Tensor:
    batch = DBatch(real=real, fake=fake, labels=c, real_out=None, fake_out=None, critic=critic)  # type: ignore[arg-type]
    value = Regularization(regularizer, weight=weight, every=every).term(batch)
    assert value is not None
    return value


def gp(one_sided: bool = False) -> GradientPenalty:
    return GradientPenalty(GradientPenaltyOptions(one_sided=one_sided))


# ---------------------------------------------------------------- the gradient penalty (WGAN-GP)
def test_gradient_penalty_of_a_linear_critic_is_hand_computable() -> None:
    """f(x) = w . x has gradient w at every point: penalty = lambda (||w|| - 1)^2 whatever the alpha,
    and its gradient w.r.t. w is lambda 2 (||w|| - 1) w / ||w||, which only exists with create_graph."""
    torch.manual_seed(0)
    w = torch.randn(3, 4, 4, requires_grad=True)
    real, fake = torch.randn(6, 3, 4, 4), torch.randn(6, 3, 4, 4)
    penalty = term(gp(), lambda x, c: (x * w).sum(dim=(1, 2, 3)), real, fake, weight=10.0)
    norm = w.detach().norm()
    assert float(penalty.detach()) == pytest.approx(float(10.0 * (norm - 1) ** 2), rel=1e-5)
    penalty.backward()
    assert torch.allclose(w.grad, 10.0 * 2 * (norm - 1) * w.detach() / norm, rtol=1e-4)


def test_one_sided_gradient_penalty_ignores_norms_below_one() -> None:
    w = torch.full((4,), 0.1)  # ||w|| = 0.2 < 1
    real, fake = torch.randn(5, 4), torch.randn(5, 4)
    assert float(term(gp(one_sided=True), lambda x, c: x @ w, real, fake).detach()) == 0.0
    assert float(term(gp(), lambda x, c: x @ w, real, fake)) == pytest.approx(0.8**2, rel=1e-5)
    w2 = torch.full((4,), 1.0)  # ||w|| = 2: both penalise
    assert float(term(gp(one_sided=True), lambda x, c: x @ w2, real, fake)) == pytest.approx(1.0, rel=1e-5)


def test_gradient_penalty_takes_the_norm_per_sample() -> None:
    """f(x) = k/2 sum(x^2) has gradient k x: with real = fake, x_hat = real whatever the alpha, and the
    per-sample norms k ||x_i|| differ, so a batch-wide norm or a wrong reduction gives another number."""
    k = 0.5
    real = torch.stack([torch.full((2, 3, 3), v) for v in (0.1, 0.4, 1.0)])
    penalty = term(gp(), lambda x, c: 0.5 * k * x.square().flatten(1).sum(1), real, real.clone(), weight=2.0)
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

    term(gp(), critic, torch.ones(shape), torch.zeros(shape))
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

    penalty = term(gp(), critic, torch.randn(4, 2), fake, labels)
    assert received[0] is labels
    expected = ((torch.arange(1.0, 5.0) * math.sqrt(2) - 1) ** 2).mean()  # sample i's norm: (1 + i) sqrt(2)
    assert float(penalty.detach()) == pytest.approx(float(expected), rel=1e-5)
    penalty.backward()
    assert fake.grad is None and w.grad is not None


def test_gradient_penalty_is_float32_and_finite_under_bf16_autocast() -> None:
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Flatten(), nn.Linear(12, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1), nn.Flatten(0))
    real, fake = torch.randn(8, 3, 2, 2), torch.randn(8, 3, 2, 2)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert critic(real).dtype == torch.bfloat16  # autocast is really on
        penalty = term(gp(), lambda x, c: critic(x), real, fake)
    assert penalty.dtype == torch.float32 and torch.isfinite(penalty)
    penalty.backward()
    first = critic[1].weight.grad
    assert first is not None and torch.isfinite(first).all() and first.abs().sum() > 0


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


def test_the_critic_penalties_see_is_float32_inside_accelerate_mixed_precision() -> None:
    """accelerate's bf16 patches the model's forward to enter autocast itself; the trainer hands penalties
    the plain forward, which runs in float32 under the penalty, while the D loss forward stays in bf16."""
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState, GradientState

    AcceleratorState._reset_state(reset_partial_state=False)
    GradientState._reset_state()
    try:
        critic = Accelerator(cpu=True, mixed_precision="bf16").prepare(RecordingCritic())
        critic(torch.randn(3, 4))
        assert critic.dtypes == [torch.bfloat16]  # the patch is in place
        penalty = term(gp(), plain_forward(critic), torch.randn(3, 4), torch.randn(3, 4))
        assert critic.dtypes[1:] == [torch.float32] and penalty.dtype == torch.float32
        penalty.backward()
        assert torch.isfinite(critic.layers[0].weight.grad).all()
    finally:
        AcceleratorState._reset_state(reset_partial_state=False)
        GradientState._reset_state()


def test_the_critic_penalties_see_works_through_torch_compile() -> None:
    """torch.compile has no double backward: penalties differentiate the plain module."""
    critic = RecordingCritic()
    penalty = term(gp(), plain_forward(torch.compile(critic)), torch.randn(3, 4), torch.randn(3, 4))
    penalty.backward()
    assert critic.layers[0].weight.grad is not None


# ---------------------------------------------------------------- R1, R2, DRAGAN
def test_r1_and_r2_are_half_the_squared_gradient_norm_on_reals_and_on_fakes() -> None:
    """f(x) = k/2 ||x||^2 has gradient k x, so R1 = k^2/2 mean ||x_real||^2 and R2 the same on the fakes."""
    k = 0.7
    critic = lambda x, c: 0.5 * k * x.square().flatten(1).sum(1)  # noqa: E731
    real, fake = torch.randn(6, 1, 3, 3), 3.0 * torch.randn(6, 1, 3, 3)
    r1 = term(R1(), critic, real, fake, weight=10.0)
    r2 = term(R2(), critic, real, fake, weight=10.0)
    assert float(r1.detach()) == pytest.approx(10.0 * 0.5 * k**2 * float(real.flatten(1).square().sum(1).mean()), rel=1e-5)
    assert float(r2.detach()) == pytest.approx(10.0 * 0.5 * k**2 * float(fake.flatten(1).square().sum(1).mean()), rel=1e-5)


def test_r1_trains_d_towards_a_flat_output_on_the_reals() -> None:
    w = torch.tensor([3.0, 4.0], requires_grad=True)
    r1 = term(R1(), lambda x, c: x @ w, torch.randn(5, 2), torch.randn(5, 2))
    assert float(r1.detach()) == pytest.approx(0.5 * 25.0)
    r1.backward()
    assert torch.allclose(w.grad, w.detach())  # d/dw (||w||^2 / 2) = w


def test_dragan_penalises_the_gradient_norm_near_the_reals() -> None:
    w = torch.tensor([3.0, 4.0])  # linear: the noise does not matter, (5 - 1)^2
    seen: list[torch.Tensor] = []

    def critic(x: torch.Tensor, c: Any) -> torch.Tensor:
        seen.append(x.detach())
        return x @ w

    real = torch.randn(64, 2)
    value = term(Dragan(DraganOptions(scale=0.5)), critic, real, torch.zeros(64, 2))
    assert float(value.detach()) == pytest.approx(16.0, rel=1e-5)
    shift = seen[0] - real
    assert (shift >= 0).all() and float(shift.max()) <= 0.5 * float(real.std()) + 1e-6 and float(shift.max()) > 0


def test_weight_clipping_bounds_every_parameter_after_d_steps() -> None:
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.Linear(8, 1))
    with torch.no_grad():
        for p in critic.parameters():
            p.mul_(0).add_(torch.randn_like(p))  # well outside the bound
    clip = WeightClip(ClipOptions(bound=0.05))
    assert clip.penalty(None) is None  # type: ignore[arg-type]
    clip.after_d_step(critic)
    for p in critic.parameters():
        assert p.abs().max() <= 0.05 + 1e-8
        assert (p.abs() == 0.05).any()  # clamped, not rescaled
        assert p.requires_grad and p.grad is None


def test_lazy_regularisation_scales_the_weight_by_the_interval() -> None:
    w = torch.tensor([1.0, 1.0])
    lazy = term(R1(), lambda x, c: x @ w, torch.randn(3, 2), torch.randn(3, 2), weight=2.0, every=16)
    assert float(lazy.detach()) == pytest.approx(2.0 * 16 * 0.5 * 2.0)


# ---------------------------------------------------------------- in the trainer
class Counting(Regularizer):
    def __init__(self) -> None:
        self.penalties, self.constraints = 0, 0

    def penalty(self, batch: DBatch) -> torch.Tensor:
        self.penalties += 1
        return batch.real_out.logits.new_zeros(())

    def after_d_step(self, discriminator: Any) -> None:
        self.constraints += 1


def test_the_trainer_applies_a_lazy_regulariser_every_n_critic_steps_and_logs_a_penalty() -> None:
    counting = Counting()
    G, D = tiny_mlp()
    trainer = ganzoo.Trainer(G, D, "non-saturating", ganzoo.build_dataset("ring8"), steps=5, batch_size=8,
                             d_steps=2, log_every=5, device="cpu", quiet=True,
                             regularizers=[Regularization(counting, weight=1.0, every=4)])
    row = trainer.fit()
    assert counting.penalties == counting.constraints == 3  # critic steps 0, 4 and 8 of 10
    assert row["penalty"] == 0.0  # every row has the figure, lazy or not


def test_build_regularizer_from_python_checks_its_schedule() -> None:
    built = ganzoo.build_regularizer("r1", weight=10.0, every=16)
    assert isinstance(built.regularizer, R1) and (built.weight, built.every) == (10.0, 16)
    with pytest.raises(ganzoo.GanzooError, match="weight"):
        ganzoo.build_regularizer("r1", weight=-1.0)
    with pytest.raises(ganzoo.GanzooError, match="unknown regularizer 'r3'"):
        ganzoo.build_regularizer("r3")


# ---------------------------------------------------------------- recipes
def test_recipes_compose_regularizers_as_a_list(tmp_path) -> None:
    recipe = load_recipe("wgan-gp-digits")
    assert [(r.name, r.schedule.weight, r.schedule.every) for r in recipe.regularizers] == [("gradient-penalty", 10.0, 1)]
    assert load_recipe("wgan-digits").regularizers[0].options.bound == 0.01
    again = recipe.to_dict()["regularizer"]
    assert again == [{"name": "gradient-penalty", "weight": 10.0, "every": 1, "one_sided": False}]


@pytest.mark.parametrize(("table", "field", "says"), [
    ('name = "r3"', "regularizer[0].name", "unknown regularizer 'r3'"),
    ('name = "r1"\nweight = -1.0', "regularizer[0].weight", ">= 0"),
    ('name = "r1"\nweight = inf', "regularizer[0].weight", "finite"),
    ('name = "r1"\nevery = 0', "regularizer[0].every", ">= 1"),
    ('name = "clip"\nbound = 0.0', "regularizer[0].bound", "> 0"),
    ('weight = 1.0', "regularizer[0].name", "missing"),
])
def test_a_bad_regularizer_is_one_line_exit_2(tmp_path, capsys, table: str, field: str, says: str) -> None:
    text = recipe_path("dcgan-digits").read_text() + f"\n[[regularizer]]\n{table}\n"
    path = tmp_path / "bad.toml"
    path.write_text(text)
    code, err = run_cli(["validate", str(path)], capsys)
    assert code == 2 and err.count("\n") == 1 and field in err and says in err, err
    if "unknown" in says:
        assert "r1" in err and "gradient-penalty" in err  # the allowed names


def test_an_old_lipschitz_option_says_what_to_write(capsys) -> None:
    code, err = run_cli(["validate", "wgan-gp-digits", "--set", "loss.lipschitz=\"gradient-penalty\""], capsys)
    assert code == 2 and err.count("\n") == 1
    assert 'loss.lipschitz' in err and '[[regularizer]] name = "gradient-penalty"' in err


def test_list_regularizers_shows_the_built_ins(capsys) -> None:
    code, out = run_cli(["list", "regularizers", "--json"], capsys, stream="out")
    import json

    names = {row["name"] for row in json.loads(out)}
    assert code == 0 and names >= {"gradient-penalty", "r1", "r2", "dragan", "clip", "mode-seeking"}


# ---------------------------------------------------------------- on G's side: mode seeking
def test_mode_seeking_pairs_fakes_of_one_class_and_divides_by_their_noise() -> None:
    from ganzoo.components import GBatch
    from ganzoo_regularizers.diversity import ModeSeeking, same_class_pairs

    labels = torch.tensor([3, 1, 3, 1, 2])
    first, second = same_class_pairs(labels, 5)
    assert (labels[first] == labels[second]).all() and len(first) == 2  # the lone 2 sits out
    assert sorted(first.tolist() + second.tolist()) == [0, 1, 2, 3]
    fake = torch.tensor([[0.0], [0.0], [0.5], [1.0], [9.0]], requires_grad=True)
    z = torch.tensor([[0.0], [1.0], [2.0], [4.0], [0.0]])
    batch = GBatch(fake=fake, labels=labels, fake_out=None, z=z)  # type: ignore[arg-type]
    value = Regularization(ModeSeeking(), weight=2.0).g_term(batch)
    # class 3: fakes |0 - 0.5|, noises |0 - 2|; class 1: |0 - 1|, |1 - 4| -> weight / (0.75 / 2.5 + eps)
    assert float(value.detach()) == pytest.approx(2.0 / 0.3, rel=1e-4)
    value.backward()
    assert fake.grad[2, 0] < 0 < fake.grad[0, 0]  # descending it moves the pair apart
    assert fake.grad[4, 0] == 0
    unconditional = GBatch(fake=fake.detach(), labels=None, fake_out=None, z=z)  # type: ignore[arg-type]
    # pairs (0, 1) and (2, 3): fakes 0 and 0.5 apart, noises 1 and 2
    assert float(ModeSeeking().g_penalty(unconditional)) == pytest.approx(1.0 / (0.25 / 1.5 + 1e-5), rel=1e-4)


class CountingG(Regularizer):
    def __init__(self) -> None:
        self.calls = 0

    def g_penalty(self, batch: Any) -> torch.Tensor:
        self.calls += 1
        assert batch.z is not None and len(batch.z) == len(batch.fake)
        return batch.fake.float().square().mean()


def test_a_g_side_penalty_reaches_g_s_loss_every_n_g_steps() -> None:
    def fit(regularizers: list[Regularization]) -> tuple[dict[str, Any], torch.Tensor]:
        G, D = tiny_mlp()
        trainer = ganzoo.Trainer(G, D, "non-saturating", ganzoo.build_dataset("ring8"), steps=6, batch_size=8,
                                 log_every=6, device="cpu", quiet=True, seed=0, regularizers=regularizers)
        row = trainer.fit()
        return row, torch.cat([p.detach().flatten() for p in G.parameters()])

    counting = CountingG()
    row, with_term = fit([Regularization(counting, weight=5.0, every=3)])
    _, without = fit([])
    assert counting.calls == 2  # G steps 0 and 3 of 6
    assert not torch.equal(with_term, without)
    assert math.isfinite(row["g_loss"])


def test_a_recipe_with_mode_seeking_trains_from_the_cli(tmp_path, capsys) -> None:
    text = recipe_path("acgan-digits").read_text().replace(
        "[train]", '[[regularizer]]\nname = "mode-seeking"\nweight = 1.0\n\n[train]', 1)
    path = tmp_path / "acgan-ms.toml"
    path.write_text(text)
    code = main(["run", str(path), "--quiet", "--out", str(tmp_path / "run"), "--set", "train.steps=3",
                 "--set", "train.batch_size=8", "--set", "train.sample_every=3", "--set", "train.checkpoint_every=3"])
    assert code == 0
    recipe = (tmp_path / "run" / "recipe.toml").read_text()
    assert 'name = "mode-seeking"' in recipe
    assert (tmp_path / "run" / "generator.safetensors").exists()
