"""The fast paths a recipe can switch on (torch.compile, channels_last, bf16 autocast, foreach and fused
optimisers) really run and train on CPU, and the trainer's own speed-ups change no result: calling torch
directly instead of accelerate's wrappers, the host-side EMA count, the figures folded every few dozen steps.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
import torch
from torch import nn

import ganzoo
from ganzoo.errors import GanzooError, TrainingError
from ganzoo.training.ema import WarmupEMA, warmup_ema

pytestmark = pytest.mark.usefixtures("one_thread")

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def tiny_dcgan(num_classes: int = 0):
    torch.manual_seed(0)
    G = ganzoo.build_generator("dcgan", shape=(1, 16, 16), num_classes=num_classes, latent_dim=8, width=8)
    D = ganzoo.build_discriminator("dcgan", shape=(1, 16, 16), num_classes=num_classes, width=8)
    return G, D


def tiny_mlp():
    torch.manual_seed(0)
    G = ganzoo.build_generator("mlp", shape=(2,), latent_dim=4, hidden_dims=[16])
    D = ganzoo.build_discriminator("mlp", shape=(2,), hidden_dims=[16])
    return G, D


def optim(implementation: str, name: str = "adam"):
    from ganzoo.recipe.schema import OptimizerOptions, OptimSection

    options = OptimizerOptions(name=name, implementation=implementation)
    return OptimSection(generator=options, discriminator=options)


def snapshot(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def assert_trained(trainer, before_g, before_d, row):
    assert trainer.step == 2
    for key in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert torch.isfinite(torch.tensor(row[key])), (key, row)
    for before, module in ((before_g, trainer.generator), (before_d, trainer.discriminator)):
        after = module.state_dict()
        assert any(not torch.equal(before[k], after[k]) for k in before if before[k].is_floating_point())
        assert all(torch.isfinite(v).all() for v in after.values() if v.is_floating_point())


# ---------------------------------------------------------------- each switch trains
@pytest.mark.parametrize("switch", ["channels_last", "bf16", "foreach", "fused", "for-loop"])
def test_fast_path_trains_two_steps_on_cpu(switch):
    # conditional, but for channels_last: D's label maps, concatenated to the image, come out contiguous
    G, D = tiny_dcgan(num_classes=0 if switch == "channels_last" else 10)
    data = ganzoo.build_dataset("digits", image_size=16)
    options = {"channels_last": switch == "channels_last", "mixed_precision": "bf16" if switch == "bf16" else "no",
               "fast": "off"}  # each switch alone (auto would add channels_last)
    kernels = switch if switch in ("foreach", "fused", "for-loop") else "auto"
    seen = []
    first_conv = next(m for m in D.modules() if isinstance(m, nn.Conv2d))
    first_conv.register_forward_hook(lambda module, args, out: seen.append((args[0], out)))
    before_g, before_d = snapshot(G), snapshot(D)
    trainer = ganzoo.Trainer(G, D, "non-saturating", data, steps=2, batch_size=8, log_every=1, device="cpu",
                             quiet=True, optim=optim(kernels), **options)
    row = trainer.fit()
    assert_trained(trainer, before_g, before_d, row)
    x, out = seen[-1]
    if switch == "channels_last":
        assert first_conv.weight.is_contiguous(memory_format=torch.channels_last)
        assert x.is_contiguous(memory_format=torch.channels_last)  # (one channel: contiguous as well)
        assert out.is_contiguous(memory_format=torch.channels_last) and not out.is_contiguous()
    else:
        assert out.is_contiguous()
    assert out.dtype == (torch.bfloat16 if switch == "bf16" else torch.float32)  # autocast really ran
    for opt in (trainer.opt_g, trainer.opt_d):
        defaults = opt.optimizer.defaults
        assert defaults.get("fused") is (True if switch == "fused" else None)
        assert defaults.get("foreach") is {"foreach": True, "for-loop": False}.get(switch)


def test_compile_trains_two_steps_on_cpu():  # 13 s on 2 shared cores (compiling G and D, twice each)
    import torch._dynamo

    torch._dynamo.reset()
    G, D = tiny_mlp()
    before_g, before_d = snapshot(G), snapshot(D)
    start = time.perf_counter()
    trainer = ganzoo.Trainer(G, D, "non-saturating", ganzoo.build_dataset("ring8"), steps=2, batch_size=8,
                             log_every=1, device="cpu", quiet=True, compile=True, ema=0.9)
    assert hasattr(trainer.g_model, "_orig_mod") and hasattr(trainer.d_model, "_orig_mod")
    row = trainer.fit()
    assert_trained(trainer, before_g, before_d, row)
    from torch._dynamo.utils import counters

    assert counters["stats"]["unique_graphs"] >= 2, dict(counters["stats"])  # G and D really went through it
    print(f"compile: 2 steps in {time.perf_counter() - start:.1f} s")


def test_compile_with_a_gradient_penalty_trains_on_cpu():
    """The penalty's double backward bypasses the compiled critic (torch.compile cannot do it): no crash."""
    pytest.importorskip("torch._dynamo")
    G, D = tiny_mlp()
    trainer = ganzoo.Trainer(G, D, "wasserstein", ganzoo.build_dataset("ring8"), steps=1, batch_size=8, d_steps=1,
                             log_every=1, device="cpu", quiet=True, compile=True,
                             regularizers=[ganzoo.build_regularizer("gradient-penalty", weight=10.0)])
    row = trainer.fit()
    assert trainer.step == 1 and "penalty" in row and torch.isfinite(torch.tensor(row["penalty"]))


def test_fused_rmsprop_is_a_clear_error():
    G, D = tiny_mlp()
    with pytest.raises(GanzooError, match="rmsprop has no fused implementation"):
        ganzoo.Trainer(G, D, "wasserstein", ganzoo.build_dataset("ring8"), steps=1, batch_size=8, device="cpu",
                       quiet=True, optim=optim("fused", name="rmsprop"))


# ---------------------------------------------------------------- speed-ups that must change nothing
@pytest.mark.parametrize("loss", ["non-saturating", "wgan-gp"])
def test_calling_torch_directly_gives_the_same_weights_as_accelerates_wrappers(loss):
    """Trainer._plain_steps skips accelerate's backward/step/zero_grad wrappers when they would add nothing."""
    results = []
    for plain in (True, False):
        G, D = tiny_dcgan(num_classes=10)
        chosen = "wasserstein" if loss == "wgan-gp" else loss
        penalty = [ganzoo.build_regularizer("gradient-penalty", weight=10.0)] if loss == "wgan-gp" else []
        torch.manual_seed(3)
        trainer = ganzoo.Trainer(G, D, chosen, ganzoo.build_dataset("digits", image_size=16), steps=3,
                                 batch_size=8, d_steps=2, ema=0.99, log_every=2, device="cpu", quiet=True,
                                 regularizers=penalty)
        assert trainer._plain_steps  # one process, fp32, no DeepSpeed: the wrappers add nothing here
        trainer._plain_steps = plain
        trainer.fit()
        results.append([snapshot(m) for m in (trainer.generator, trainer.discriminator, trainer.ema)])
    for ours, theirs in zip(*results):
        assert ours.keys() == theirs.keys()
        assert all(torch.equal(ours[k], theirs[k]) for k in ours)


def test_warmup_ema_is_torchs_averaged_model_with_a_host_side_count():
    torch.manual_seed(0)
    G = ganzoo.build_generator("dcgan", shape=(1, 16, 16), latent_dim=8, width=8)  # BatchNorm: int buffers too
    ours = WarmupEMA(G, 0.99)
    torchs = torch.optim.swa_utils.AveragedModel(G, multi_avg_fn=warmup_ema(0.99), use_buffers=True)
    for update in range(6):
        with torch.no_grad():
            for p in G.parameters():
                p.add_(torch.randn_like(p) * 0.1)
            for b in G.buffers():
                b.add_(1)
        ours.update_parameters(G)
        torchs.update_parameters(G)
        if update == 3:  # a resumed EMA reads its count from the loaded state, once
            resumed = WarmupEMA(G, 0.99)
            resumed.load_state_dict(ours.state_dict())
            ours = resumed
    a, b = ours.state_dict(), torchs.state_dict()
    assert a.keys() == b.keys() and int(a["n_averaged"]) == 6
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_figures_folded_every_few_dozen_steps_are_the_means_of_each_step():
    """The D(x), D(G(z)) and loss figures are summed on the device in batches (RunningFigures.fold): the logged
    means over 70 steps (one fold at 64, the rest at the log) equal those computed step by step."""
    from ganzoo_losses.logistic import NonSaturatingLoss

    seen: dict[str, list[float]] = {"d_loss": [], "d_real": [], "d_fake": [], "g_loss": []}

    class Recording(NonSaturatingLoss):
        def d_loss(self, real_logits, fake_logits):
            loss = super().d_loss(real_logits, fake_logits)
            seen["d_loss"].append(loss.item())
            seen["d_real"].append(torch.sigmoid(real_logits).mean().item())
            seen["d_fake"].append(torch.sigmoid(fake_logits).mean().item())
            return loss

        def g_loss(self, fake_logits):
            loss = super().g_loss(fake_logits)
            seen["g_loss"].append(loss.item())
            return loss

    G, D = tiny_mlp()
    trainer = ganzoo.Trainer(G, D, Recording(), ganzoo.build_dataset("ring8"), steps=70, batch_size=8, d_steps=2,
                             log_every=70, device="cpu", quiet=True)
    row = trainer.fit()
    assert row["step"] == 70 and len(seen["d_loss"]) == 140
    for key, values in seen.items():
        assert row[key] == pytest.approx(sum(values) / len(values), rel=1e-5, abs=1e-6), key


def test_a_non_finite_loss_after_a_fold_names_its_step():
    class NaNFrom(ganzoo.GANLoss):
        def __init__(self, first: int) -> None:
            self.first, self.calls = first, 0

        def d_loss(self, real_logits, fake_logits):
            self.calls += 1
            loss = nn.functional.softplus(-real_logits).mean() + nn.functional.softplus(fake_logits).mean()
            return loss * float("nan") if self.calls >= self.first else loss

        def g_loss(self, fake_logits):
            return nn.functional.softplus(-fake_logits).mean()

    G, D = tiny_mlp()
    trainer = ganzoo.Trainer(G, D, NaNFrom(70), ganzoo.build_dataset("ring8"), steps=100, batch_size=8,
                             log_every=100, device="cpu", quiet=True)
    with pytest.raises(TrainingError, match=r"non-finite loss at step 70\b"):
        trainer.fit()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_no_host_device_sync_inside_a_step_on_a_gpu():
    """Between logs, a step never waits for the GPU (EMA, figures, non-finite check, epoch boundaries)."""
    G, D = tiny_dcgan(num_classes=10)
    trainer = ganzoo.Trainer(G, D, "non-saturating", ganzoo.build_dataset("digits", image_size=16), steps=100,
                             batch_size=64, ema=0.999, log_every=100, device="cuda", quiet=True)
    trainer.train_step()  # the first step may set things up
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for _ in range(70):  # more than an epoch of digits (1,437 images: 22 batches), and a fold at 64
            trainer.train_step()
    finally:
        torch.cuda.set_sync_debug_mode(0)
    trainer._check_finite()


# ---------------------------------------------------------------- the benchmark compares like with like
@pytest.mark.skipif(not (BENCHMARKS / "overhead.py").is_file(), reason="benchmarks/ is not shipped in the sdist")
@pytest.mark.parametrize("fakes", ["fresh", "shared"])
@pytest.mark.parametrize("case", ["mlp-ring8", "cdcgan-digits", "wgan-gp-digits", "dcgan-r1-digits"])
def test_the_overhead_benchmarks_plain_loop_gives_ganzoos_weights(case, fakes):
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import overhead
    finally:
        sys.path.remove(str(BENCHMARKS))
    width = ["generator.hidden_dims=[16]", "discriminator.hidden_dims=[16]"] if case == "mlp-ring8" else [
        "generator.width=8", "discriminator.width=8"]
    overhead.check_same(case, [*width, "train.batch_size=8", f"train.g_step_fakes={fakes}"], steps=3)


# ---------------------------------------------------------------- train.fast = "auto": the choice
from ganzoo.training.fast import COMPILE_MIN_STEPS, FastPaths, apply_fast_paths, choose_fast_paths  # noqa: E402


@pytest.mark.parametrize(("kw", "expected"), [
    ({"device": "cpu", "convolutional": True}, FastPaths(channels_last=True)),
    ({"device": "cpu", "convolutional": False}, FastPaths(optimizer="foreach")),
    ({"device": "cpu", "convolutional": True, "steps": COMPILE_MIN_STEPS},
     FastPaths(channels_last=True, compile=True)),
    ({"device": "cpu", "convolutional": False, "steps": COMPILE_MIN_STEPS}, FastPaths(optimizer="foreach")),
    ({"device": "cpu", "convolutional": True, "bf16_supported": True}, FastPaths(channels_last=True)),  # CPU: no bf16
    ({"device": "cuda", "convolutional": True, "bf16_supported": True},
     FastPaths(channels_last=True, bf16=True, optimizer="fused")),
    ({"device": "cuda", "convolutional": True, "bf16_supported": True, "has_penalty": True},
     FastPaths(channels_last=True, optimizer="fused")),  # no bf16 in the penalty's double backward
    ({"device": "cuda", "convolutional": False, "bf16_supported": False}, FastPaths(optimizer="fused")),
    ({"device": "mps", "convolutional": True}, FastPaths()),  # nothing measured there
])
def test_auto_chooses_what_was_measured_faster(kw, expected):
    kw = {"has_penalty": False, "steps": 1500, **kw}
    assert choose_fast_paths("auto", **kw) == expected
    assert choose_fast_paths("off", **kw) == FastPaths()


def test_auto_only_adds_to_the_recipes_own_switches():
    from ganzoo.recipe.schema import OptimizerOptions, OptimSection, TrainOptions

    train = TrainOptions(mixed_precision="bf16", compile=True)
    optim = OptimSection(generator=OptimizerOptions(implementation="for-loop"),
                         discriminator=OptimizerOptions(name="rmsprop"))
    new_train, new_optim = apply_fast_paths(train, optim, FastPaths(channels_last=True, optimizer="fused"))
    assert (new_train.channels_last, new_train.mixed_precision, new_train.compile) == (True, "bf16", True)
    assert new_optim.generator.implementation == "for-loop"  # the recipe chose
    assert new_optim.discriminator.implementation == "foreach"  # torch has no fused RMSprop
    assert apply_fast_paths(train, optim, FastPaths()) == (train, optim)
    with pytest.raises(ValueError, match="'auto' or 'off'"):
        choose_fast_paths("on", device="cpu", convolutional=True, has_penalty=False, steps=1)


# ---------------------------------------------------------------- each fast path against the plain path
def train_tiny(steps: int = 3, **options):
    G, D = tiny_dcgan(num_classes=10)
    implementation = options.pop("implementation", "auto")
    trainer = ganzoo.Trainer(G, D, "non-saturating", ganzoo.build_dataset("digits", image_size=16), steps=steps,
                             batch_size=8, device="cpu", quiet=True, optim=optim(implementation), **options)
    trainer.fit()
    return trainer, [snapshot(m) for m in (trainer.generator, trainer.discriminator)]


def max_difference(a, b) -> float:
    return max((x[k].float() - y[k].float()).abs().max().item() for x, y in zip(a, b) for k in x)


def test_auto_on_cpu_gives_the_plain_numbers_for_conv_nets_and_mlps():
    off, plain = train_tiny(fast="off")
    auto, fast = train_tiny(fast="auto")
    assert (off.fast_paths, auto.fast_paths) == ("none", "channels_last")
    assert auto.config.channels_last and auto.optim_config.generator.implementation == "auto"
    G, D = tiny_mlp()  # an MLP gets foreach Adam instead, the same arithmetic as the loop
    mlp = ganzoo.Trainer(G, D, "non-saturating", ganzoo.build_dataset("ring8"), steps=1, device="cpu", quiet=True)
    assert mlp.fast_paths == "foreach optimisers" and not mlp.config.channels_last
    # foreach Adam is the same arithmetic as the loop: bit for bit
    _, foreach = train_tiny(fast="off", implementation="foreach")
    assert max_difference(plain, foreach) == 0.0
    # channels_last convolutions sum in another order: equal to float32 rounding
    _, channels_last = train_tiny(fast="off", channels_last=True)
    assert 0.0 <= max_difference(plain, channels_last) < 1e-5
    assert max_difference(fast, channels_last) == 0.0  # auto = channels_last here, nothing else


def test_bf16_autocast_stays_close_to_fp32():
    _, plain = train_tiny(fast="off")
    _, bf16 = train_tiny(fast="off", mixed_precision="bf16")
    assert 0.0 < max_difference(plain, bf16) < 0.05  # bf16 really ran, and three steps stay close


@pytest.mark.slow  # compiling G and D twice each: half a minute on 2 shared cores
def test_compile_stays_close_to_eager():
    import torch._dynamo

    torch._dynamo.reset()
    _, plain = train_tiny(fast="off")
    _, compiled = train_tiny(fast="off", compile=True)
    assert max_difference(plain, compiled) < 1e-4


def test_the_cli_says_which_fast_paths_it_chose_and_records_them(tmp_path, capsys):
    import json
    import tomllib

    from ganzoo.cli.main import main

    sets = ["--set", "train.steps=2", "--set", "train.log_every=1", "--set", "train.device=cpu",
            "--set", "generator.width=8", "--set", "discriminator.width=8", "--set", "train.threads=1"]
    for mode, line in (("auto", "channels_last"), ("off", "none")):
        out = tmp_path / mode
        assert main(["run", "dcgan-digits", "--out", str(out), "--set", f"train.fast={mode}", *sets]) == 0
        assert f"fast paths (train.fast = '{mode}'): {line}" in capsys.readouterr().err
        resolved = tomllib.loads((out / "recipe.toml").read_text())
        assert resolved["train"]["fast"] == mode
        assert resolved["train"]["channels_last"] is (mode == "auto")
        assert resolved["optim"]["generator"]["implementation"] == "auto"  # conv nets on CPU: torch's choice
        rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
        assert [row["fast"] for row in rows] == [line, line]
