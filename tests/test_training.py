"""The trainer itself: shipped recipes, non-finite losses, precision, the schedule, atomic checkpoints."""

from __future__ import annotations

import math
import warnings
from types import SimpleNamespace

import pytest
import torch
from helpers_training import assert_one_line_error, recipe_names, tiny

import ganzoo
from ganzoo.cli.main import main
from ganzoo.errors import TrainingError
from ganzoo.recipe import load_recipe
from ganzoo.training import checkpoint
from ganzoo.weights import read_weights

pytestmark = pytest.mark.usefixtures("one_thread")


def tiny_models(shape=(2,), num_classes=0, kind="mlp"):
    torch.manual_seed(0)
    if kind == "mlp":
        G = ganzoo.build_generator("mlp", shape=shape, num_classes=num_classes, latent_dim=4, hidden_dims=[16])
        D = ganzoo.build_discriminator("mlp", shape=shape, num_classes=num_classes, hidden_dims=[16])
    else:
        G = ganzoo.build_generator("dcgan", shape=shape, num_classes=num_classes, latent_dim=8, width=8)
        D = ganzoo.build_discriminator("dcgan", shape=shape, num_classes=num_classes, width=8)
    return G, D


class CountingSource:
    """An endless 2-D source that counts the batches the trainer draws from it."""

    def __init__(self, shape=(2,)):
        self.shape, self.batches = shape, 0

    def sample(self, n, generator):
        self.batches += 1
        return torch.rand((n, *self.shape), generator=generator) * 2 - 1, None


class NaNAfter(ganzoo.GANLoss):
    """Non-saturating, until the ``after``-th call of d_loss, from which on it returns nan."""

    def __init__(self, after: int = 4) -> None:
        self.after, self.calls = after, 0

    def d_loss(self, real_logits, fake_logits):
        self.calls += 1
        loss = torch.nn.functional.softplus(-real_logits).mean() + torch.nn.functional.softplus(fake_logits).mean()
        return loss * float("nan") if self.calls >= self.after else loss

    def g_loss(self, fake_logits):
        return torch.nn.functional.softplus(-fake_logits).mean()


# ---------------------------------------------------------------- shipped recipes
@pytest.mark.parametrize("name", recipe_names())
def test_every_shipped_recipe_validates(name, capsys):
    recipe = load_recipe(name)
    assert recipe.name == name
    assert main(["validate", "--skip-data", name]) == 0  # download recipes: their files are not here
    assert capsys.readouterr().out.startswith("ok: ")


def test_the_shipped_recipes_include_offline_and_download_ones():
    assert {"cdcgan-digits", "vanilla-ring8", "vanilla-grid25"} <= set(recipe_names(offline=True))
    assert {"cdcgan-mnist", "dcgan-mnist", "dcgan-cifar10"} <= set(recipe_names(offline=False))


# ---------------------------------------------------------------- non-finite losses
def test_non_finite_loss_stops_naming_the_step_and_keeps_the_last_good_checkpoint(tmp_path):
    G, D = tiny_models()
    data = ganzoo.build_dataset("ring8")
    trainer = ganzoo.Trainer(G, D, NaNAfter(after=5), data, steps=20, batch_size=8, log_every=3,
                             checkpoint_every=2, device="cpu", run_dir=tmp_path, quiet=True)
    with pytest.raises(TrainingError, match=r"non-finite loss at step 5\b") as caught:
        trainer.fit()
    # found at the next log step (6), before the checkpoint of step 6 is written
    assert trainer.step == 6
    kept = checkpoint.latest_checkpoint(tmp_path / "checkpoints")
    assert kept.name == "step-000004.safetensors"
    assert str(kept) in str(caught.value)
    state = checkpoint.load_checkpoint(kept)
    assert state["step"] == 4
    assert all(torch.isfinite(v).all() for v in state["generator"].values() if v.is_floating_point())
    tensors, card = read_weights(tmp_path / "generator.safetensors")
    assert card.step == 4 and all(torch.isfinite(v).all() for v in tensors.values())


def test_non_finite_loss_between_log_steps_is_caught_at_the_checkpoint(tmp_path):
    """A checkpoint step that comes before the next log step must not save the broken weights."""
    G, D = tiny_models()
    trainer = ganzoo.Trainer(G, D, NaNAfter(after=3), ganzoo.build_dataset("ring8"), steps=20, batch_size=8,
                             log_every=10, checkpoint_every=2, device="cpu", run_dir=tmp_path, quiet=True)
    with pytest.raises(TrainingError, match="non-finite loss at step 3"):
        trainer.fit()
    assert checkpoint.latest_checkpoint(tmp_path / "checkpoints").name == "step-000002.safetensors"


def test_non_finite_loss_without_a_run_dir_still_stops():
    G, D = tiny_models()
    trainer = ganzoo.Trainer(G, D, NaNAfter(after=2), ganzoo.build_dataset("ring8"), steps=5, batch_size=8,
                             device="cpu", quiet=True)
    with pytest.raises(TrainingError, match="non-finite loss at step 2"):
        trainer.fit()


def test_non_finite_loss_through_the_cli_is_exit_2_one_line(tmp_path, capsys, ganzoo_plugin):
    @ganzoo.hookimpl
    def register_losses(register):
        register("nan-after-3", lambda options: NaNAfter(after=3), description="nan from the 3rd D step")

    ganzoo_plugin(SimpleNamespace(register_losses=register_losses), name="nan-loss")
    sets = tiny("vanilla-ring8", steps=8, log_every=4, checkpoint_every=2, extra=['loss.name="nan-after-3"'])
    code = main(["run", "vanilla-ring8", *[f"--set={s}" for s in sets], "--out", str(tmp_path), "--quiet"])
    assert code == 2
    assert_one_line_error(capsys.readouterr().err, "non-finite loss at step 3", "step-000002.safetensors")
    assert checkpoint.load_checkpoint(tmp_path / "checkpoints" / "step-000002.safetensors")["step"] == 2


# ---------------------------------------------------------------- precision, accumulation, schedule
def test_fp16_on_cpu_warns_and_trains_in_fp32():
    G, D = tiny_models()
    with pytest.warns(UserWarning, match="cannot take effect on CPU"):
        trainer = ganzoo.Trainer(G, D, "non-saturating", ganzoo.build_dataset("ring8"), steps=2, batch_size=8,
                                 mixed_precision="fp16", device="cpu", quiet=True)
    assert trainer.accelerator.mixed_precision == "no"
    figures = trainer.fit()
    assert math.isfinite(figures["d_loss"]) and math.isfinite(figures["g_loss"])
    assert all(p.dtype == torch.float32 for p in G.parameters())


@pytest.mark.parametrize("kind", ["mlp", "dcgan"])
def test_bf16_trains_on_cpu(kind):
    shape = (2,) if kind == "mlp" else (1, 16, 16)
    G, D = tiny_models(shape, kind=kind)
    data = ganzoo.build_dataset("ring8") if kind == "mlp" else torch.rand(32, *shape) * 2 - 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # bf16 works on CPU: no "cannot take effect" warning
        trainer = ganzoo.Trainer(G, D, "non-saturating", data, steps=2, batch_size=8, mixed_precision="bf16",
                                 device="cpu", quiet=True)
    assert trainer.accelerator.mixed_precision == "bf16"
    figures = trainer.fit()
    assert trainer.step == 2
    assert math.isfinite(figures["d_loss"]) and math.isfinite(figures["g_loss"])


def test_grad_accum_trains_and_draws_one_real_batch_per_micro_step():
    G, D = tiny_models()
    source = CountingSource()
    before = [p.detach().clone() for p in (*G.parameters(), *D.parameters())]
    trainer = ganzoo.Trainer(G, D, "non-saturating", source, steps=3, batch_size=8, grad_accum=2, device="cpu",
                             quiet=True)
    figures = trainer.fit()
    assert source.batches == 3 * 2
    assert math.isfinite(figures["d_loss"])
    after = [p.detach() for p in (*G.parameters(), *D.parameters())]
    assert all(not torch.equal(a, b) for a, b in zip(before, after))


def test_d_steps_draws_a_fresh_real_batch_per_critic_step():
    G, D = tiny_models()  # the mlp critic has no BatchNorm: G's step needs no real batch
    source = CountingSource()
    ganzoo.Trainer(G, D, "non-saturating", source, steps=4, batch_size=8, d_steps=3, device="cpu",
                   quiet=True).fit()
    assert source.batches == 4 * 3


def test_d_steps_position_in_tensor_data():
    G, D = tiny_models()
    x = torch.rand(400, 2) * 2 - 1
    trainer = ganzoo.Trainer(G, D, "non-saturating", x, steps=4, batch_size=8, d_steps=3, device="cpu", quiet=True)
    trainer.fit()
    assert trainer.batches.state_dict() == {"epoch": 0, "offset": 4 * 3 * 8}


@pytest.mark.parametrize(("mode", "extra"), [("fresh-reals", 1), ("eval", 0)])
def test_batchnorm_critic_reads_a_real_batch_in_g_step_only_when_asked(mode, extra):
    """With g_step_batchnorm = "fresh-reals" a BatchNorm critic takes one more real batch per generator step;
    the default ("eval": D in eval mode, fakes alone) reads none (see ganzoo/training/gstep.py)."""
    G, D = tiny_models((1, 16, 16), kind="dcgan")
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in D.modules())
    source = CountingSource((1, 16, 16))
    ganzoo.Trainer(G, D, "non-saturating", source, steps=2, batch_size=8, d_steps=3, device="cpu",
                   quiet=True, g_step_batchnorm=mode).fit()
    assert source.batches == 2 * (3 + extra)


def test_discriminator_gets_no_gradient_from_the_generator_step():
    G, D = tiny_models()
    trainer = ganzoo.Trainer(G, D, "non-saturating", ganzoo.build_dataset("ring8"), steps=1, batch_size=8,
                             device="cpu", quiet=True)
    trainer.discriminator_step()
    assert all(p.grad is None for p in D.parameters())  # zeroed with set_to_none after the step
    trainer.generator_step()
    assert all(p.grad is None for p in D.parameters())
    assert all(p.requires_grad for p in D.parameters())


# ---------------------------------------------------------------- atomic writes
def test_a_checkpoint_write_failing_midway_keeps_the_previous_one(tmp_path, monkeypatch):
    G, D = tiny_models()
    trainer = ganzoo.Trainer(G, D, "non-saturating", ganzoo.build_dataset("ring8"), steps=4, batch_size=8,
                             device="cpu", run_dir=tmp_path, quiet=True)
    trainer.fit(until=2)
    folder = tmp_path / "checkpoints"
    previous = checkpoint.latest_checkpoint(folder)
    saved = previous.read_bytes()
    weights = (tmp_path / "generator.safetensors").read_bytes()

    def half_written(tensors, filename, metadata=None):
        with open(filename, "wb") as handle:
            handle.write(b"\x00" * 16)  # half a file, then the disk fills up
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoint, "save_file", half_written)
    with pytest.raises(OSError, match="No space left"):
        trainer.fit()
    assert sorted(p.name for p in folder.iterdir()) == [previous.name]  # no temp file, no step-4 file
    assert previous.read_bytes() == saved
    assert checkpoint.load_checkpoint(previous)["step"] == 2
    assert (tmp_path / "generator.safetensors").read_bytes() == weights

    # the same for the exported weights
    monkeypatch.undo()
    monkeypatch.setattr("ganzoo.weights.write_file", lambda path, data: half_written({}, path))
    with pytest.raises(OSError):
        trainer.save_weights()
    assert (tmp_path / "generator.safetensors").read_bytes() == weights
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_files_written_atomically_get_the_usual_mode(tmp_path):
    """mkstemp's temporary files are private (0600); what a run leaves must be readable like any new file."""
    import os

    mask = os.umask(0o022)
    os.umask(mask)
    G, D = tiny_models()
    ganzoo.Trainer(G, D, "non-saturating", ganzoo.build_dataset("ring8"), steps=1, batch_size=8, device="cpu",
                   run_dir=tmp_path, quiet=True).fit()
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"generator.safetensors", "curves.png", "step-000001.safetensors"}
    assert {oct(p.stat().st_mode & 0o777) for p in files} == {oct(0o666 & ~mask)}
