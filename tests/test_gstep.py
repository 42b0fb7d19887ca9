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
    ("eval", True, True, GStepInputs("fresh", True)),
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
