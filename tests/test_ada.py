"""ADA (adaptive augmentation): p follows the sign of D's outputs on reals by the published rule, shows in the
progress line, metrics.jsonl and curves, lives in the checkpoint (resume bit-exact), and is refused where
there is nothing to adapt. Also the small-data option it is measured with (digits' ``limit``)."""

from __future__ import annotations

import json

import pytest
import torch
from helpers_training import assert_one_line_error, assert_same_tensors, set_args, tiny

from ganzoo.api import build_trainer, run_recipe
from ganzoo.cli.main import main
from ganzoo.recipe import load_recipe
from ganzoo.training import checkpoint
from ganzoo_augment.adaptive import AdaptiveProbability
from ganzoo_augment.diffaugment import DiffAugment
from ganzoo_augment.options import DiffAugmentOptions

pytestmark = pytest.mark.usefixtures("one_thread")
ADA = ["augment.adaptive=true", "augment.speed=2000", "augment.interval=2", "data.limit=64", "augment.target=0"]


def test_p_moves_by_the_rule():
    """p += sign(E[sign(D(x_real))] - target) * images / speed every ``interval`` observed steps, in [0, 1]."""
    ada = AdaptiveProbability(target=0.6, interval=2, speed=100)
    confident = torch.tensor([1.0, 2.0, 3.0, -1.0])  # r_t = 0.5 over 4 logits
    ada.observe(confident)
    assert float(ada.p) == 0.0  # not yet: one of two steps
    ada.observe(torch.ones(4))  # r_t over both steps: (2 + 4) / 8 = 0.75 > 0.6
    assert float(ada.p) == pytest.approx(8 / 100)
    for _ in range(2):
        ada.observe(-torch.ones(4))  # r_t = -1 < 0.6: down by 8 / 100
    assert float(ada.p) == pytest.approx(0.0)
    for _ in range(2):
        ada.observe(-torch.ones(4))
    assert float(ada.p) == 0.0  # clamped at 0
    for _ in range(40):
        ada.observe(torch.ones(4))
    assert float(ada.p) == 1.0  # clamped at 1


def test_p_is_the_share_of_augmented_samples():
    augment = DiffAugment(DiffAugmentOptions(adaptive=True, policy=("cutout",)), shape=(1, 16, 16))
    x = torch.ones(400, 1, 16, 16)
    assert torch.equal(augment(x, torch.Generator().manual_seed(0)), x)  # p starts at 0
    augment.adaptive.p = torch.tensor(0.5, dtype=torch.float64)
    changed = (augment(x, torch.Generator().manual_seed(0)) != x).flatten(1).any(dim=1).float().mean()
    assert 0.4 < float(changed) < 0.6
    assert augment.figures() == {"p": 0.5}


def test_p_in_progress_line_metrics_and_curves(tmp_path, capsys):
    name = "dcgan-r1-diffaug-digits"
    run_dir = tmp_path / "run"
    rising = [*ADA, "augment.target=-1"]  # p rises unless every real scores negative
    assert main(["run", name, *set_args(tiny(name, steps=6, extra=rising)), "--out", str(run_dir)]) == 0
    err = capsys.readouterr().err
    assert "  p 0." in err
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    ps = [row["augment_p"] for row in rows]
    assert all(0.0 <= p <= 1.0 for p in ps) and max(ps) > 0  # 8 reals per step, 2 steps: p moves by 0.008
    assert (run_dir / "curves.png").is_file()


def test_resume_with_ada_is_bit_identical(tmp_path):
    recipe = load_recipe("dcgan-r1-diffaug-digits", tiny("dcgan-r1-diffaug-digits", steps=6, checkpoint_every=2,
                                                         extra=ADA))
    full = run_recipe(recipe, out=tmp_path / "full", quiet=True).run_dir
    half = tmp_path / "half"
    first = build_trainer(recipe, half, quiet=True)
    first.fit(until=3)
    stored = checkpoint.load_checkpoint(checkpoint.latest_checkpoint(half / "checkpoints"))
    assert set(stored["augment"]) == {"p", "signs", "images", "steps"}
    del first
    second = build_trainer(recipe, half, quiet=True)
    assert second.resume() == 3  # mid-interval: 3 critic steps seen, interval 2, a partial sum stored
    assert float(second.augment.adaptive.p) == float(stored["augment"]["p"])
    second.fit()
    for name in ("generator.safetensors", "discriminator.safetensors", "generator-ema.safetensors"):
        assert_same_tensors(full / name, half / name)
    p_full = [json.loads(line).get("augment_p") for line in (full / "metrics.jsonl").read_text().splitlines()]
    p_half = [json.loads(line).get("augment_p") for line in (half / "metrics.jsonl").read_text().splitlines()]
    assert p_full == p_half and any(p_full)  # p moved, and moved alike


def test_ada_with_nothing_to_adapt_is_exit_2(capsys):
    name = "dcgan-r1-diffaug-digits"
    assert main(["validate", name, "--set", "augment.adaptive=true", "--set", "augment.policy=[]"]) == 2
    assert_one_line_error(capsys.readouterr().err, "augment:", "policy is empty", "allowed:")
    assert main(["validate", name, "--set", "augment.adaptive=true", "--set", "augment.probability=0.5"]) == 2
    assert_one_line_error(capsys.readouterr().err, "augment:", "probability = 0.5", "allowed:")


def test_a_run_without_ada_keeps_no_augment_state(tmp_path):
    recipe = load_recipe("dcgan-r1-diffaug-digits", tiny("dcgan-r1-diffaug-digits", steps=2))
    run_dir = run_recipe(recipe, out=tmp_path / "run", quiet=True).run_dir
    assert "augment" not in checkpoint.load_checkpoint(checkpoint.latest_checkpoint(run_dir / "checkpoints"))
    assert "augment_p" not in (run_dir / "metrics.jsonl").read_text()


def test_digits_limit_keeps_the_first_training_images():
    from ganzoo_datasets.digits import DigitsDataset
    from ganzoo_datasets.options import DigitsOptions

    full_x, full_y = DigitsDataset(DigitsOptions(image_size=8)).tensors()
    x, y = DigitsDataset(DigitsOptions(image_size=8, limit=200)).tensors()
    assert torch.equal(x, full_x[:200]) and torch.equal(y, full_y[:200])
    test_x, _ = DigitsDataset(DigitsOptions(image_size=8, limit=200), split="test").tensors()
    assert len(test_x) == 360  # the test split is never cut
