"""Stacked digits, the 1000-mode test: the dataset (three independent digits, one per channel), the mode
count and KL of PacGAN's protocol, the real data's own figures beside them, and the refusals on other data."""

from __future__ import annotations

import math

import pytest
import torch
from helpers_training import assert_one_line_error, set_args, tiny

from ganzoo.cli.main import main
from ganzoo.recipe import load_recipe
from ganzoo_datasets.digits import DigitsDataset
from ganzoo_datasets.options import DigitsOptions, StackedDigitsOptions
from ganzoo_datasets.stacked import StackedDigits
from ganzoo_metrics.stacked import figures, mode_histogram

pytestmark = pytest.mark.usefixtures("one_thread")


def test_each_channel_is_a_digit_of_the_split_and_the_mode_spells_them():
    data = StackedDigits(StackedDigitsOptions(image_size=8))
    assert data.info.shape == (3, 8, 8) and data.info.num_classes == 0  # G is not told the modes
    digits, labels = DigitsDataset(DigitsOptions(image_size=8)).tensors()
    x, modes = data.sample_modes(50, torch.Generator().manual_seed(1))
    assert x.shape == (50, 3, 8, 8) and modes.min() >= 0 and modes.max() < 1000
    flat = digits.flatten(1)
    for image, mode in zip(x, modes):
        for channel, digit in enumerate((int(mode) // 100, int(mode) // 10 % 10, int(mode) % 10)):
            match = (flat == image[channel].flatten()).all(dim=1)
            assert match.any() and (labels[match] == digit).all()
    again, _ = data.sample(50, torch.Generator().manual_seed(1))
    assert torch.equal(again, x)  # the run's seeded generator decides, nothing else


def test_channels_are_drawn_independently():
    _, modes = StackedDigits(StackedDigitsOptions(image_size=8)).sample_modes(26_000, torch.Generator().manual_seed(0))
    counts = torch.bincount(modes, minlength=1000)
    assert (counts > 0).sum() == 1000  # 26 per mode on average: all found
    hundreds = torch.bincount(modes // 100, minlength=10).double() / len(modes)
    assert (hundreds - 0.1).abs().max() < 0.01


class DigitInFirstPixel:
    """A stand-in judge: reads the digit from the first pixel (d / 10), so the counts are known exactly."""

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return (x.flatten(1)[:, 0] * 10).round().long()


def stacked(modes: list[int]) -> torch.Tensor:
    x = torch.zeros(len(modes), 3, 4, 4)
    for i, mode in enumerate(modes):
        for channel, digit in enumerate((mode // 100, mode // 10 % 10, mode % 10)):
            x[i, channel, 0, 0] = digit / 10
    return x


def test_mode_histogram_counts_each_channels_digit():
    counts = mode_histogram(DigitInFirstPixel(), stacked([123, 123, 7, 990]))
    assert counts[123] == 2 and counts[7] == 1 and counts[990] == 1 and counts.sum() == 4
    modes, kl = figures(counts)
    assert modes == 3.0
    p = torch.tensor([0.5, 0.25, 0.25], dtype=torch.float64)
    assert kl == pytest.approx(float((p * (p * 1000).log()).sum()))
    assert figures(torch.full((1000,), 26))[1] == pytest.approx(0.0, abs=1e-12)  # uniform: KL 0
    assert figures(torch.eye(1000)[0] * 26000)[1] == pytest.approx(math.log(1000))  # one mode: log 1000


def test_the_recipes_evaluate_with_the_protocol():
    for name in ("dcgan-stacked-digits", "r3gan-stacked-digits"):
        recipe = load_recipe(name)
        assert recipe.data.name == "stacked-digits"
        assert recipe.eval.metrics == ("stacked-modes",) and recipe.eval.samples == 26_000 and recipe.eval.every


def test_r3gan_stacked_digits_prints_modes_of_1000(tmp_path, capsys):
    name = "r3gan-stacked-digits"
    run_dir = tmp_path / "run"
    assert main(["run", name, *set_args(tiny(name, steps=2)), "--out", str(run_dir)]) == 0
    err = capsys.readouterr().err
    assert "stacked-modes/modes " in err and "stacked-modes/total_modes 1000" in err
    # the same figures from the finished run's weights, beside the real data's own
    assert main(["eval", str(run_dir), "--metric", "stacked-modes", "-n", "300", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"real_modes"' in out and '"kl"' in out


def test_the_metric_refuses_other_data(tmp_path, capsys):
    assert main(["validate", "dcgan-digits", "--set", 'eval.metrics=["stacked-modes"]', "--set", "eval.every=10"]) == 2
    assert_one_line_error(capsys.readouterr().err, "eval.metrics[0]", "stacked-modes", "'digits'", "allowed:")
    run_dir = tmp_path / "digits"
    assert main(["run", "dcgan-digits", *set_args(tiny("dcgan-digits", steps=1)), "--out", str(run_dir),
                 "--quiet"]) == 0
    assert main(["eval", str(run_dir), "--metric", "stacked-modes", "-n", "100"]) == 2
    assert_one_line_error(capsys.readouterr().err, "stacked-modes", "stacked-digits")
