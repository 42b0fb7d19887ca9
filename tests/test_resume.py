"""Resuming: a run stopped and resumed ends bit for bit where an uninterrupted one does (CPU).

The interrupted half is stopped by ``Trainer.fit(until=k)``, by a crash after a checkpoint, or (in
test_run_cli.py) by a real SIGINT; the second half is always a NEW trainer that loads the checkpoint.
"""

from __future__ import annotations

import json
import os
import signal

import pytest
import torch
from helpers_training import assert_one_line_error, assert_same_tensors, tiny

import ganzoo
from ganzoo.api import build_trainer, run_recipe
from ganzoo.cli.main import main
from ganzoo.errors import GanzooError
from ganzoo.recipe import load_recipe
from ganzoo.training import checkpoint

STEPS, HALF = 6, 3

# cdcgan-digits: conditional dcgan with BatchNorm and EMA; vanilla-ring8: mlp on an endless sampled source;
# wgan-gp-digits: k = 5 critic steps and a penalty at random points (the global RNG must be restored; the
# Python-API test below has dropout in D for the same reason).
RESUMED = ["cdcgan-digits", "vanilla-ring8", "wgan-gp-digits"]

pytestmark = pytest.mark.usefixtures("one_thread")


def tiny_recipe(name: str, **kw):
    return load_recipe(name, tiny(name, steps=STEPS, checkpoint_every=2, **kw))


def weight_files(run_dir):
    return sorted(path.name for path in run_dir.glob("*.safetensors"))


def metric_steps(run_dir) -> list[int]:
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line.strip()]
    return [row["step"] for row in rows if "d_loss" in row]


def assert_same_run(full, resumed):
    names = weight_files(full)
    assert "generator.safetensors" in names and "discriminator.safetensors" in names
    assert weight_files(resumed) == names
    for name in names:
        assert_same_tensors(full / name, resumed / name)


@pytest.mark.parametrize("name", RESUMED)
def test_stop_and_resume_with_a_new_trainer_is_bit_identical(tmp_path, name):
    recipe = tiny_recipe(name)
    full = run_recipe(recipe, out=tmp_path / "full", quiet=True).run_dir

    half = tmp_path / "half"
    first = build_trainer(recipe, half, quiet=True)
    first.fit(until=HALF)
    assert first.step == HALF
    assert checkpoint.latest_checkpoint(half / "checkpoints").name == f"step-{HALF:06d}.safetensors"
    del first

    second = build_trainer(recipe, half, quiet=True)  # new models, new accelerator, new optimisers
    assert second.resume() == HALF
    second.fit()
    assert second.step == STEPS
    assert_same_run(full, half)
    steps = metric_steps(half)
    assert len(steps) == len(set(steps)) and steps == sorted(steps) and steps[-1] == STEPS


def test_resume_after_a_crash_rewinds_to_the_checkpoint_and_drops_later_metrics(tmp_path):
    """Metrics logged after the last checkpoint are rewritten by the resumed run, never shown twice."""
    recipe = tiny_recipe("cdcgan-digits")
    full = run_recipe(recipe, out=tmp_path / "full", quiet=True).run_dir

    def crash(trainer):
        if trainer.step == 4:  # checkpoint at 2, metrics up to 3 already written
            raise RuntimeError("power cut")

    crashed = tmp_path / "crashed"
    trainer = build_trainer(recipe, crashed, quiet=True)
    trainer.callbacks.append(crash)
    with pytest.raises(RuntimeError, match="power cut"):
        trainer.fit()
    assert metric_steps(crashed) == [1, 2, 3]
    assert checkpoint.latest_checkpoint(crashed / "checkpoints").name == "step-000002.safetensors"

    result = run_recipe(recipe, resume=crashed, quiet=True)
    assert result.step == STEPS
    assert_same_run(full, crashed)
    assert metric_steps(crashed) == list(range(1, STEPS + 1))


def test_resume_through_the_cli_in_process(tmp_path, capsys):
    """``ganzoo run --resume DIR`` reads DIR/recipe.toml (the resolved recipe) and finishes the run."""
    # stopping by a shorter train.steps changes a schedule tied to the length: keep the learning rate constant
    sets = [f"--set={s}" for s in tiny("vanilla-ring8", steps=STEPS, checkpoint_every=2)] + ["--set=train.lr_decay=none"]
    assert main(["run", "vanilla-ring8", *sets, "--out", str(tmp_path / "full"), "--quiet"]) == 0

    half = tmp_path / "half"
    assert main(["run", "vanilla-ring8", *sets, "--set", f"train.steps={HALF}", "--out", str(half), "--quiet"]) == 0
    # the recipe it resumes with says steps = HALF: the --set on resume asks for the full length again
    assert main(["run", "--resume", str(half), "--set", f"train.steps={STEPS}", "--quiet"]) == 0
    assert_same_run(tmp_path / "full", half)
    steps = metric_steps(half)
    assert len(steps) == len(set(steps)) and steps[-1] == STEPS


def test_python_api_resume_walks_the_same_epochs(tmp_path):
    """Tensor data of 20 samples in batches of 8: an epoch every 2 batches, so resuming crosses epochs."""
    x = torch.rand(20, 2, generator=torch.Generator().manual_seed(1)) * 2 - 1

    def trainer(run_dir):
        torch.manual_seed(0)
        G = ganzoo.build_generator("mlp", shape=(2,), latent_dim=4, hidden_dims=[16])
        D = ganzoo.build_discriminator("mlp", shape=(2,), hidden_dims=[16], dropout=0.2)
        return ganzoo.Trainer(G, D, "non-saturating", x, steps=STEPS, batch_size=8, d_steps=2, log_every=1,
                              device="cpu", run_dir=run_dir, quiet=True, seed=5)

    full = trainer(tmp_path / "full")
    full.fit()
    first = trainer(tmp_path / "half")
    first.fit(until=HALF)
    second = trainer(tmp_path / "half")
    second.resume()
    assert second.batches.state_dict() == first.batches.state_dict()
    second.fit()
    assert second.batches.state_dict() == full.batches.state_dict()
    for a, b in [(full.generator, second.generator), (full.discriminator, second.discriminator)]:
        for (key, left), right in zip(a.state_dict().items(), b.state_dict().values()):
            assert torch.equal(left, right), key


def test_resume_without_a_checkpoint_is_a_clear_error(tmp_path, capsys):
    recipe = tiny_recipe("vanilla-ring8")
    trainer = build_trainer(recipe, tmp_path / "empty", quiet=True)
    with pytest.raises(GanzooError, match="no checkpoint to resume from"):
        trainer.resume()
    assert main(["run", "--resume", str(tmp_path / "nothing")]) == 2
    assert "not a ganzoo run directory" in capsys.readouterr().err


def test_resume_with_other_models_is_exit_2_and_keeps_the_runs_recipe(tmp_path, capsys):
    run_dir = tmp_path / "run"
    sets = [f"--set={s}" for s in tiny("vanilla-ring8", steps=2)]
    assert main(["run", "vanilla-ring8", *sets, "--out", str(run_dir), "--quiet"]) == 0
    recipe_before = (run_dir / "recipe.toml").read_text()
    metrics_before = (run_dir / "metrics.jsonl").read_text()
    capsys.readouterr()
    code = main(["run", "--resume", str(run_dir), "--set", "generator.hidden_dims=[32]", "--quiet"])
    assert code == 2
    assert_one_line_error(capsys.readouterr().err, f"--resume {run_dir}: the recipe changes what the run trained",
                          "generator.hidden_dims: [16] -> [32]")
    assert (run_dir / "recipe.toml").read_text() == recipe_before  # a failed resume changes nothing
    assert (run_dir / "metrics.jsonl").read_text() == metrics_before


def test_resume_from_a_corrupt_checkpoint_is_exit_2(tmp_path, capsys):
    run_dir = tmp_path / "run"
    sets = [f"--set={s}" for s in tiny("vanilla-ring8", steps=2)]
    assert main(["run", "vanilla-ring8", *sets, "--out", str(run_dir), "--quiet"]) == 0
    latest = checkpoint.latest_checkpoint(run_dir / "checkpoints")
    latest.write_bytes(b"\xff" * 64)
    capsys.readouterr()
    assert main(["run", "--resume", str(run_dir), "--quiet"]) == 2
    assert_one_line_error(capsys.readouterr().err, "not a ganzoo checkpoint")


def tiny_ring_trainer(run_dir=None, **options):
    torch.manual_seed(0)
    G = ganzoo.build_generator("mlp", shape=(2,), latent_dim=4, hidden_dims=[16])
    D = ganzoo.build_discriminator("mlp", shape=(2,), hidden_dims=[16])
    options = {"steps": STEPS, "batch_size": 8, "log_every": 1, "device": "cpu", **options}
    return ganzoo.Trainer(G, D, "non-saturating", ganzoo.build_dataset("ring8"), run_dir=run_dir, quiet=True,
                          **options)


def test_fit_again_after_ctrl_c_goes_on_with_the_same_trainer(tmp_path):
    """A notebook user presses Ctrl-C, then calls fit() again: it trains to the end, as if never stopped."""
    full = tiny_ring_trainer()
    full.fit()

    def ctrl_c(trainer):
        if trainer.step == 2:
            os.kill(os.getpid(), signal.SIGINT)

    trainer = tiny_ring_trainer(tmp_path)
    trainer.callbacks.append(ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        trainer.fit()
    assert trainer.step == 2
    trainer.callbacks.clear()
    trainer.fit()
    assert trainer.step == STEPS
    for a, b in [(full.generator, trainer.generator), (full.discriminator, trainer.discriminator)]:
        assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_wall_time_keeps_counting_across_fits_and_resumes(tmp_path):
    trainer = tiny_ring_trainer(tmp_path)
    trainer.fit(until=2)
    trainer.fit(until=4)
    resumed = tiny_ring_trainer(tmp_path)
    resumed.resume()
    resumed.fit()
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    walls = [row["wall_s"] for row in rows]
    assert [row["step"] for row in rows] == list(range(1, STEPS + 1))
    assert walls == sorted(walls), walls


def test_fit_until_zero_trains_nothing():
    trainer = tiny_ring_trainer()
    trainer.fit(until=0)
    assert trainer.step == 0
    trainer.fit(until=2)
    assert trainer.step == 2


def test_resume_falls_back_to_the_checkpoint_before_a_damaged_one(tmp_path, capsys):
    """Two checkpoints are kept so that one damaged after writing (a bad disk, a truncated copy) costs only
    the steps since the one before: resuming says so, reads the older one and still ends bit-identical."""
    recipe = tiny_recipe("vanilla-ring8", extra=["train.lr_decay=none"])
    full = run_recipe(recipe, out=tmp_path / "full", quiet=True).run_dir

    half = tmp_path / "half"
    first = build_trainer(recipe, half, quiet=True)
    first.fit(until=4)
    newest = half / "checkpoints" / "step-000004.safetensors"
    assert sorted(p.name for p in (half / "checkpoints").iterdir()) == ["step-000002.safetensors", newest.name]
    newest.write_bytes(newest.read_bytes()[:100])  # truncated
    capsys.readouterr()
    second = build_trainer(recipe, half, quiet=True)
    assert second.resume() == 2
    assert "step-000004.safetensors: not a ganzoo checkpoint" in capsys.readouterr().err
    second.fit()
    assert_same_run(full, half)
    assert metric_steps(half) == list(range(1, STEPS + 1))


def test_the_last_step_writes_its_checkpoint_and_samples_once(tmp_path, monkeypatch):
    recipe = load_recipe("vanilla-ring8", tiny("vanilla-ring8", steps=4, checkpoint_every=2, sample_every=2))
    trainer = build_trainer(recipe, tmp_path, quiet=True)
    saved: list[tuple[str, int]] = []
    for method in ("save_checkpoint", "save_samples"):
        original = getattr(trainer, method)
        monkeypatch.setattr(trainer, method, lambda original=original, method=method: (
            saved.append((method, trainer.step)), original())[1])
    trainer.fit()
    assert sorted(saved) == [("save_checkpoint", 2), ("save_checkpoint", 4), ("save_samples", 2), ("save_samples", 4)]
