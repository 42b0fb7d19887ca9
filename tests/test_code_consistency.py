"""InfoGAN's code-consistency regulariser: Q's guess on a real image and on a moved copy of it, made to agree
(IIC's mutual information), validated, trained and resumed as a user runs it."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
import torch
from helpers_training import assert_one_line_error, assert_same_tensors, resumed_like_uninterrupted, set_args, tiny

from ganzoo.cli.main import main
from ganzoo.recipe import apply_overrides, recipe_from_dict
from ganzoo.recipe.load import read_toml, resolve_recipe_path
from ganzoo_infogan.consistency import paired_information, random_affine

pytestmark = pytest.mark.usefixtures("one_thread")


def test_the_paired_information_is_log_k_for_sure_even_agreeing_guesses_and_zero_for_blind_ones() -> None:
    sure = torch.eye(10).repeat(3, 1)
    assert float(paired_information(sure, sure)) == pytest.approx(math.log(10), abs=1e-4)
    blind = torch.full((30, 10), 0.1)
    assert float(paired_information(blind, blind)) == pytest.approx(0.0, abs=1e-5)
    one_value = torch.zeros(30, 10)
    one_value[:, 0] = 1
    assert float(paired_information(one_value, one_value)) == pytest.approx(0.0, abs=1e-4)
    disagreeing = sure[torch.randperm(30, generator=torch.Generator().manual_seed(0))]
    assert float(paired_information(sure, disagreeing)) < 0.5 * math.log(10)


def test_the_gradient_pulls_a_moved_copy_toward_its_image_s_value() -> None:
    sure = torch.eye(10)
    logits = (torch.eye(10) * 0.5).requires_grad_(True)  # each copy leaning a little toward its value
    (-paired_information(sure, torch.softmax(logits, dim=1))).backward()
    assert (logits.grad.diagonal() < 0).all()  # descending raises each copy's logit of its image's value


def test_the_move_is_the_identity_at_zero_and_keeps_the_background_at_the_border() -> None:
    x = torch.full((4, 1, 16, 16), -1.0)
    x[:, :, 5:11, 7:9] = 1.0  # a "1" on the background
    assert torch.allclose(random_affine(x, degrees=0, shift=0, scale=0), x, atol=1e-5)
    torch.manual_seed(0)
    moved = random_affine(x, degrees=15, shift=0.1, scale=0.1)
    assert moved.shape == x.shape and not torch.allclose(moved, x, atol=1e-2)
    edges = torch.cat([moved[:, :, 0], moved[:, :, -1], moved[..., 0], moved[..., -1]])
    assert torch.allclose(edges, torch.tensor(-1.0), atol=1e-4)  # nothing grey comes in at the edges


def consistent_infogan(steps: int, checkpoint_every: int = 0):
    raw = read_toml(resolve_recipe_path("infogan-digits"))
    raw["regularizer"] = [{"name": "code-consistency", "weight": 1.0, "every": 2}]
    sets = tiny("infogan-digits", steps=steps, checkpoint_every=checkpoint_every)
    return recipe_from_dict(apply_overrides(raw, sets, "test"), source="test")


def test_a_consistent_infogan_trains_logs_its_penalty_and_resumes_bit_identically(tmp_path) -> None:
    resumed_like_uninterrupted(consistent_infogan(steps=5, checkpoint_every=2), tmp_path, until=2)
    rows = (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()
    penalties = [row["penalty"] for row in map(json.loads, rows)
                 if row.get("penalty") is not None]
    assert penalties and all(-math.log(10) <= p <= 0 for p in penalties)


def test_code_consistency_on_a_d_without_codes_is_one_line(capsys) -> None:
    code = main(["validate", "dcgan-digits", "--set", 'regularizer=[{name="code-consistency", weight=1.0}]'])
    err = capsys.readouterr().err
    assert code == 2
    assert_one_line_error(err)
    assert "code-consistency" in err and "'codes'" in err


@pytest.mark.parametrize("recipe, sets, words", [
    ("infogan-ring8", ['regularizer=[{name="code-consistency"}]'], ["regularizer[0]", "flat data [2]", "image data"]),
    ("infogan-digits", ['regularizer=[{name="code-consistency", categorical=8}]'],
     ["regularizer[0]", "categorical = 8", "predicts 10", "allowed: categorical = 10"]),
])
def test_a_regulariser_that_does_not_fit_the_recipe_is_one_line(capsys, recipe, sets, words) -> None:
    """The core runs a regulariser's own check_recipe, as it does a loss's."""
    code = main(["validate", recipe, *[arg for value in sets for arg in ("--set", value)]])
    err = capsys.readouterr().err
    assert code == 2
    assert_one_line_error(err)
    assert all(word in err for word in words), err


# ---------------------------------------------------------------- the label-free metric
@pytest.fixture(scope="module")
def infogan_run(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("consistency") / "infogan"
    assert main(["run", "infogan-digits", *set_args(tiny("infogan-digits", steps=2)), "--out", str(run),
                 "--quiet"]) == 0
    return run


def test_the_consistency_metric_reads_the_run_s_d_and_is_seeded(infogan_run, capsys) -> None:
    figures = []
    for _ in range(2):
        assert main(["eval", str(infogan_run), "--metric", "infogan-consistency", "--json"]) == 0
        figures.append(json.loads(capsys.readouterr().out)["metrics"]["infogan-consistency"])
    assert figures[0] == figures[1]  # the moves are drawn from the evaluation seed
    assert figures[0]["max_information"] == pytest.approx(math.log(10))
    assert 0 <= figures[0]["information"] <= math.log(10) and 0 <= figures[0]["agreement"] <= 1
    assert main(["eval", str(infogan_run), "--metric", "infogan-consistency", "--seed", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["metrics"]["infogan-consistency"] != figures[0]


def test_the_consistency_metric_without_the_run_s_d_is_one_line(infogan_run, tmp_path, capsys) -> None:
    alone = tmp_path / "handed-over.safetensors"
    shutil.copy(infogan_run / "generator-ema.safetensors", alone)  # a generator file with no D beside it
    assert main(["eval", str(alone), "--metric", "infogan-consistency"]) == 2
    err = capsys.readouterr().err
    assert_one_line_error(err)
    assert "infogan-consistency" in err and "discriminator" in err


def test_the_moves_are_drawn_from_the_generator_given() -> None:
    x = torch.rand(6, 1, 16, 16) * 2 - 1
    first, second = (random_affine(x, degrees=10, shift=0.1, scale=0.1, generator=torch.Generator().manual_seed(3))
                     for _ in range(2))
    assert torch.equal(first, second)


def test_the_consistency_metric_during_training_reads_the_live_d_and_changes_nothing(tmp_path) -> None:
    """Evaluated every 2 steps (and kept best by), it logs its figures from the D being trained, and the run's
    weights are those of the same run without evaluation: D is put back in training mode, no state moves."""
    sets = tiny("infogan-digits", steps=4)
    evaluated = sets + ["eval.every=2", 'eval.metrics=["infogan-consistency"]', "eval.samples=100",
                        'eval.keep_best="infogan-consistency/information"']
    assert main(["run", "infogan-digits", *set_args(evaluated), "--out", str(tmp_path / "eval"), "--quiet"]) == 0
    assert main(["run", "infogan-digits", *set_args(sets), "--out", str(tmp_path / "plain"), "--quiet"]) == 0
    for name in ("generator.safetensors", "discriminator.safetensors"):
        assert_same_tensors(tmp_path / "eval" / name, tmp_path / "plain" / name)
    rows = [json.loads(line) for line in (tmp_path / "eval" / "metrics.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows if "infogan-consistency/information" in row] == [2, 4]
    assert (tmp_path / "eval" / "generator-best.safetensors").is_file()


def test_the_code_metric_during_training_trains_the_missing_classifier_first(tmp_path, monkeypatch) -> None:
    """With an empty cache, the first evaluation during training trains the digits classifier from inside the
    metric's no-grad evaluation (which once failed: 'element 0 of tensors does not require grad')."""
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))
    sets = tiny("infogan-digits", steps=2) + ["eval.every=2", 'eval.metrics=["infogan-codes"]', "eval.samples=50"]
    assert main(["run", "infogan-digits", *set_args(sets), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows if "infogan-codes/error" in row] == [2]
    assert list((tmp_path / "cache" / "classifiers").glob("digits-*.safetensors"))


def test_a_third_of_a_warm_up_run_finished_later_is_the_straight_run_bit_for_bit(tmp_path) -> None:
    """README's workflow: a seed trained a third of the way with the warm-up's share scaled to keep its steps
    (start_from 0.333 of 4 steps = the recipe's 0.111 of 12: 2 steps), then `--resume --set train.steps=12`."""
    straight = tiny("infogan-digits", steps=12) + ["loss.start_from=0.111"]
    third = tiny("infogan-digits", steps=4, checkpoint_every=4) + ["loss.start_from=0.333"]
    assert main(["run", "infogan-digits", *set_args(straight), "--out", str(tmp_path / "straight"), "--quiet"]) == 0
    assert main(["run", "infogan-digits", *set_args(third), "--out", str(tmp_path / "third"), "--quiet"]) == 0
    assert main(["run", "--resume", str(tmp_path / "third"), "--set", "train.steps=12", "--quiet"]) == 0
    for name in ("generator.safetensors", "discriminator.safetensors"):
        assert_same_tensors(tmp_path / "straight" / name, tmp_path / "third" / name)
    # the same third with the recipe's own share warms up for 1 step, not 2: another run
    other = tiny("infogan-digits", steps=4, checkpoint_every=4) + ["loss.start_from=0.111"]
    assert main(["run", "infogan-digits", *set_args(other), "--out", str(tmp_path / "other"), "--quiet"]) == 0
    assert main(["run", "--resume", str(tmp_path / "other"), "--set", "train.steps=12", "--quiet"]) == 0
    with pytest.raises(AssertionError):
        assert_same_tensors(tmp_path / "straight" / "generator.safetensors", tmp_path / "other" / "generator.safetensors")
