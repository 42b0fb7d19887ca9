"""D-guided sampling: the calibration recovers a known logistic law, Metropolis-Hastings with the exact
density ratio turns G's distribution into the data's, rejection sampling keeps the samples D rates high,
and the CLI draws guided samples from a real run, or says in one line that the discriminator is missing."""

from __future__ import annotations

import shutil

import pytest
import torch
from torch import nn

from ganzoo.cli.main import main
from ganzoo.guided import GuidedGenerator, burn_in_levels, drs_score, fit_calibration


class Shift(nn.Module):
    """G: z -> z (a standard normal in 1-D); ``num_classes`` 0."""

    latent_dim, num_classes = 1, 0

    def forward(self, z, c=None):
        return z.clone()


class ExactRatio(nn.Module):
    """D's logit for data N(1, 1) against G's N(0, 1): log N(x; 1, 1) / N(x; 0, 1) = x - 1/2."""

    def forward(self, x, c=None):
        return x.flatten() - 0.5


def test_calibration_recovers_a_known_logistic_law():
    noise = torch.Generator().manual_seed(0)
    logits = torch.randn(20000, generator=noise, dtype=torch.float64) * 3
    is_real = torch.rand(20000, generator=noise, dtype=torch.float64) < torch.sigmoid(0.5 * logits - 1.0)
    a, b = fit_calibration(logits[is_real], logits[~is_real])
    assert a == pytest.approx(0.5, abs=0.03) and b == pytest.approx(-1.0, abs=0.06)


def test_drs_score_by_hand():
    # F = d - log(1 - exp(d - eps)) with d = l - l_max: d = log(1/2) gives log(1/2) - log(1/2) = 0
    assert float(drs_score(torch.tensor([0.5 + torch.log(torch.tensor(0.5)).item()]), 0.5)) == pytest.approx(0, abs=1e-5)
    assert float(drs_score(torch.tensor([-30.0]), 0.0)) == pytest.approx(-30.0, abs=1e-6)


def test_burn_in_levels_are_per_class():
    logits = torch.tensor([1.0, 2.0, -10.0, -9.0], dtype=torch.float64)
    l_max, _ = burn_in_levels(logits, torch.tensor([0, 0, 1, 1]), 0.5)
    assert l_max.tolist() == [2.0, -9.0]


def test_metropolis_hastings_with_the_exact_ratio_samples_the_data():
    guided = GuidedGenerator(Shift(), ExactRatio(), method="mh", calibration=(1.0, 0.0), steps=30)
    x = guided(torch.randn(4000, 1, generator=torch.Generator().manual_seed(1)))
    assert float(x.mean()) == pytest.approx(1.0, abs=0.1) and float(x.std()) == pytest.approx(1.0, abs=0.1)
    assert 0.3 < guided.accepted / guided.proposed < 0.9


def test_rejection_sampling_with_gamma_0_and_the_exact_ratio_samples_the_data():
    # sigmoid(F) = exp(l - l_max): with gamma = 0 DRS is the textbook rejection sampler p_data / (M p_g)
    z = torch.randn(3000, 1, generator=torch.Generator().manual_seed(2))
    l_max, _ = burn_in_levels(ExactRatio()(z).double(), None, 0.0)
    guided = GuidedGenerator(Shift(), ExactRatio(), method="drs", calibration=(1.0, 0.0), l_max=l_max, gamma=0.0)
    x = guided(z)
    assert x.shape == z.shape and float(x.mean()) == pytest.approx(1.0, abs=0.12)  # plain G: mean 0
    assert guided.proposed > 5 * guided.accepted and guided.accepted == len(z)
    assert torch.equal(guided(z), x)  # seeded by z: the same noise gives the same samples


def test_a_higher_quantile_keeps_fewer_and_better_samples():
    z = torch.randn(2000, 1, generator=torch.Generator().manual_seed(3))
    means = []
    for quantile in (0.1, 0.9):
        l_max, gamma = burn_in_levels(ExactRatio()(z).double(), None, quantile)
        guided = GuidedGenerator(Shift(), ExactRatio(), method="drs", calibration=(1.0, 0.0), l_max=l_max, gamma=gamma)
        means.append(float(guided(z).mean()))
    assert 0 < means[0] < means[1]


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
    patch = pytest.MonkeyPatch()
    patch.setenv("GANZOO_CACHE", str(tmp_path_factory.mktemp("cache")))
    out = tmp_path_factory.mktemp("runs") / "ring"
    assert main(["run", "vanilla-ring8", "--set", "train.steps=20", "--set", "generator.hidden_dims=[16]",
                 "--set", "discriminator.hidden_dims=[16]", "--quiet", "--out", str(out)]) == 0
    yield out
    patch.undo()


@pytest.mark.parametrize("method", ["drs", "mh"])
def test_sample_and_eval_with_a_guide_on_a_real_run(ring_run, tmp_path, capsys, method):
    import numpy as np

    out = tmp_path / f"{method}.npy"
    assert main(["sample", str(ring_run), "--guide", method, "-n", "50", "--out", str(out)]) == 0
    assert np.load(out).shape == (50, 2)
    capsys.readouterr()
    assert main(["eval", str(ring_run), "--guide", method, "-n", "200", "--json"]) == 0
    assert f'"guide": "{method}"' in capsys.readouterr().out


def test_a_weights_file_without_its_discriminator_is_one_line_and_exit_2(ring_run, tmp_path, capsys):
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(ring_run / "generator.safetensors", alone / "generator.safetensors")
    capsys.readouterr()
    assert main(["sample", str(alone / "generator.safetensors"), "--guide", "drs", "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no discriminator.safetensors beside it" in err
    assert not (tmp_path / "x.png").exists()


def test_the_guide_knobs_reach_the_sampler_and_the_report(ring_run, tmp_path, capsys):
    import json

    accepted = {}
    for quantile in ("0.1", "0.9"):
        capsys.readouterr()
        assert main(["eval", str(ring_run), "--guide", "drs", "--guide-quantile", quantile, "-n", "200",
                     "--metric", "mode-coverage", "--json"]) == 0
        options = json.loads(capsys.readouterr().out)["guide_options"]
        assert options["method"] == "drs" and options["quantile"] == float(quantile)
        accepted[quantile] = options["accepted"]
    assert accepted["0.9"] < accepted["0.1"]  # a higher quantile keeps fewer of G's proposals
    assert main(["eval", str(ring_run), "--guide", "mh", "--guide-steps", "3", "-n", "100", "--metric", "mode-coverage",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["guide_options"]["steps"] == 3
    assert main(["eval", str(ring_run), "--guide", "mh", "--guide-steps", "3", "-n", "100", "--metric", "mode-coverage"]) == 0
    assert "guided by D (mh, steps 3" in capsys.readouterr().out


@pytest.mark.parametrize("flag, value, message", [("--guide-quantile", "1.5", "--guide-quantile 1.5: must be in [0, 1)"),
                                                  ("--guide-quantile", "nan", "--guide-quantile nan: must be in [0, 1)"),
                                                  ("--guide-steps", "0", "--guide-steps 0: must be between 1 and"),
                                                  ("--guide-steps", "1000000000", "must be between 1 and 10000"),
                                                  ("--seed", str(2**63 - 2), "--seed 9223372036854775806: with --guide")])
def test_a_guide_knob_out_of_range_is_one_line_and_exit_2(ring_run, tmp_path, capsys, flag, value, message):
    capsys.readouterr()
    assert main(["sample", str(ring_run), "--guide", "drs", flag, value, "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
    assert not (tmp_path / "x.png").exists()


def test_the_command_lines_guide_defaults_are_the_samplers_own():
    import inspect

    from ganzoo.cli.guide_args import DEFAULT_QUANTILE, DEFAULT_STEPS
    from ganzoo.guided import guided_generator

    defaults = inspect.signature(guided_generator).parameters
    assert (defaults["quantile"].default, defaults["steps"].default) == (DEFAULT_QUANTILE, DEFAULT_STEPS)


def test_a_packed_discriminator_is_one_line_and_exit_2(tmp_path, capsys):
    run = tmp_path / "pac"
    assert main(["run", "pacgan-ring8", "--set", "train.steps=2", "--set", "generator.hidden_dims=[8]",
                 "--set", "discriminator.hidden_dims=[8]", "--quiet", "--out", str(run)]) == 0
    capsys.readouterr()
    assert main(["sample", str(run), "--guide", "drs", "-n", "10", "--out", str(tmp_path / "x.npy")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "needs one logit per sample" in err
    assert not (tmp_path / "x.npy").exists()


def test_a_discriminator_that_gives_fewer_figures_than_samples_is_refused():
    class PerPair(nn.Module):
        def forward(self, x, c=None):
            return x.flatten()[::2]

    guided = GuidedGenerator(Shift(), PerPair(), method="drs", calibration=(1.0, 0.0))
    from ganzoo.errors import GanzooError

    with pytest.raises(GanzooError, match="gave 2 figures for 4 samples"):
        guided.logits(torch.randn(4, 1), None)
