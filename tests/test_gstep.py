"""train.g_step_batchnorm: what a BatchNorm D sees in G's step (ganzoo/training/gstep.py), as a pure choice
and as the trainer runs it."""

from __future__ import annotations

import pytest
import torch

import ganzoo
from ganzoo.training.gstep import G_STEP_MODES, GStepInputs, g_step_inputs

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize(("mode", "batchnorm", "needs_reals", "expected"), [
    ("fresh-reals", True, False, GStepInputs("fresh", False)),
    ("reused-reals", True, False, GStepInputs("reused", False)),
    ("fakes", True, False, GStepInputs(None, False)),
    ("eval", True, False, GStepInputs(None, True)),
    # a D without BatchNorm sees the fakes alone, whatever the mode
    *[(mode, False, False, GStepInputs(None, False)) for mode in G_STEP_MODES],
    # a loss that compares with reals always gets them: reused only when asked
    ("fresh-reals", False, True, GStepInputs("fresh", False)),
    ("reused-reals", False, True, GStepInputs("reused", False)),
    ("fakes", True, True, GStepInputs("fresh", False)),
    ("eval", True, True, GStepInputs("fresh", False)),  # with reals beside the fakes, D stays in train mode
])
def test_g_step_inputs(mode, batchnorm, needs_reals, expected):
    assert g_step_inputs(mode, d_has_batchnorm=batchnorm, loss_needs_reals=needs_reals) == expected


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="fresh-reals, reused-reals, fakes, eval"):
        g_step_inputs("both", d_has_batchnorm=True, loss_needs_reals=False)


def run(mode: str, steps: int = 2):
    torch.manual_seed(0)
    G = ganzoo.build_generator("dcgan", shape=(1, 16, 16), latent_dim=8, width=8)
    D = ganzoo.build_discriminator("dcgan", shape=(1, 16, 16), width=8)
    seen: list[tuple[int, bool]] = []
    D.register_forward_pre_hook(lambda module, args: seen.append((len(args[0]), module.training)))
    trainer = ganzoo.Trainer(G, D, "non-saturating", torch.rand(256, 1, 16, 16) * 2 - 1, steps=steps,
                             batch_size=8, device="cpu", quiet=True, g_step_batchnorm=mode)
    trainer.fit()
    return trainer, seen


@pytest.mark.parametrize(("mode", "g_batch", "d_training", "batches_read"), [
    ("fresh-reals", 16, True, 2 * 2), ("reused-reals", 16, True, 2), ("fakes", 8, True, 2), ("eval", 8, False, 2)])
def test_each_mode_feeds_d_what_it_says(mode, g_batch, d_training, batches_read):
    trainer, seen = run(mode)
    # per step: D's own forward (reals and fakes, 16 images, training), then G's
    assert seen[0::2] == [(16, True)] * 2
    assert seen[1::2] == [(g_batch, d_training)] * 2
    assert trainer.batches.state_dict()["offset"] == batches_read * 8
    assert trainer.discriminator.training  # eval mode ends with G's step


def test_reused_reals_are_the_d_steps_last_batch():
    trainer, _ = run("reused-reals", steps=1)
    captured = []
    hook = trainer.discriminator.register_forward_pre_hook(lambda module, args: captured.append(args[0].clone()))
    trainer.train_step()
    hook.remove()
    d_input, g_input = captured
    assert torch.equal(d_input[:8], g_input[:8])  # the same reals in both steps, no second read


def test_the_mode_is_a_recipe_option_with_a_clear_error(tmp_path, capsys):
    from ganzoo.cli.main import main

    code = main(["validate", "dcgan-digits", "--set", "train.g_step_batchnorm=both"])
    err = capsys.readouterr().err
    assert code == 2 and "train.g_step_batchnorm" in err and "fresh-reals" in err


# ---------------------------------------------------------------- train.g_step_fakes
def fakes_run(fakes: str, *, steps: int = 2, d_steps: int = 1, grad_accum: int = 1):
    torch.manual_seed(0)
    G = ganzoo.build_generator("dcgan", shape=(1, 16, 16), num_classes=10, latent_dim=8, width=8)
    D = ganzoo.build_discriminator("dcgan", shape=(1, 16, 16), num_classes=10, width=8, spectral_norm=True)
    g_calls: list[tuple[torch.Tensor, torch.Tensor | None]] = []
    G.register_forward_hook(lambda module, args, out: g_calls.append((out.detach().clone(), *args[1:])))
    d_inputs: list[tuple[torch.Tensor, torch.Tensor | None]] = []
    D.register_forward_pre_hook(lambda module, args: d_inputs.append((args[0].detach().clone(), args[1])))
    trainer = ganzoo.Trainer(G, D, "hinge", ganzoo.build_dataset("digits", image_size=16), steps=steps, batch_size=8, d_steps=d_steps,
                             grad_accum=grad_accum, device="cpu", quiet=True, g_step_fakes=fakes)
    trainer.fit()
    return trainer, g_calls, d_inputs


@pytest.mark.parametrize(("fakes", "d_steps", "grad_accum", "g_per_step"), [
    ("fresh", 1, 1, 2), ("shared", 1, 1, 1), ("fresh", 3, 1, 4), ("shared", 3, 1, 3),
    ("shared", 1, 2, 4),  # gradient accumulation keeps fresh fakes: one graph per micro-batch would be kept
])
def test_shared_fakes_save_one_generator_forward_per_step(fakes, d_steps, grad_accum, g_per_step):
    _, g_calls, _ = fakes_run(fakes, d_steps=d_steps, grad_accum=grad_accum)
    assert len(g_calls) == 2 * g_per_step


def test_shared_fakes_are_the_last_critic_steps_fakes_and_labels():
    _, g_calls, d_inputs = fakes_run("shared", steps=1)
    (made, labels), = g_calls
    (d_x, d_c), (g_x, g_c) = d_inputs  # D's step (reals, then fakes), then G's step
    assert torch.equal(d_x[8:], made) and torch.equal(g_x, made)
    assert torch.equal(d_c[8:], labels) and torch.equal(g_c, labels)
    fresh_calls = fakes_run("fresh", steps=1)[1]
    assert not torch.equal(fresh_calls[0][0], fresh_calls[1][0])  # fresh: G's step draws other z


def test_g_step_fakes_is_a_recipe_option_with_a_clear_error(capsys):
    from ganzoo.cli.main import main

    code = main(["validate", "cdcgan-digits", "--set", "train.g_step_fakes=reused"])
    err = capsys.readouterr().err
    assert code == 2 and "train.g_step_fakes" in err and "shared" in err and "Traceback" not in err
