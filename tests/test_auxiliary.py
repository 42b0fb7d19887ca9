"""Auxiliary outputs and D-input augmentation: ACGAN's class head, InfoGAN's codes and Q head, DiffAugment;
what validation refuses, what the trainer hands the pieces, resume with them on, and the weights of ACGAN and
InfoGAN generators used with nothing else at hand (``ganzoo sample`` in a fresh process, ``ganzoo eval``)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import torch
from helpers_training import assert_one_line_error, resumed_like_uninterrupted, run_cli, set_args, tiny

import ganzoo
from ganzoo.cli.main import main
from ganzoo.components import DOutput
from ganzoo.recipe import apply_overrides, load_recipe, recipe_from_dict
from ganzoo.recipe.load import read_toml, resolve_recipe_path
from ganzoo_augment.diffaugment import DiffAugment
from ganzoo_augment.options import DiffAugmentOptions
from ganzoo_infogan.metric import _many_to_one_error, _one_to_one_error
from ganzoo_infogan.models import InfoGANGenerator
from ganzoo_infogan.options import InfoGANGeneratorOptions

pytestmark = pytest.mark.usefixtures("one_thread")


def validate_error(capsys: Any, *args: str) -> str:
    assert main(["validate", *args]) == 2
    err = capsys.readouterr().err
    assert_one_line_error(err)
    return err


# ---------------------------------------------------------------- validation: who needs what
def test_an_acgan_loss_with_a_d_without_a_class_head_is_refused(capsys) -> None:
    err = validate_error(capsys, "acgan-digits", "--set", 'discriminator.name="dcgan"')
    assert "loss.name" in err and "'class_logits'" in err and "discriminator 'dcgan'" in err
    err = validate_error(capsys, "acgan-digits", "--set", "conditional=false")  # no classes: no class head
    assert "'class_logits'" in err and "discriminator 'acgan'" in err


def test_infogan_codes_on_a_generator_without_a_prior_are_refused(capsys) -> None:
    err = validate_error(capsys, "infogan-digits", "--set", 'generator={name = "dcgan", latent_dim = 74}')
    assert "loss.name" in err and "generator's 'codes'" in err and "generator 'dcgan'" in err
    err = validate_error(capsys, "infogan-digits", "--set", 'discriminator={name = "dcgan"}')
    assert "discriminator's 'codes'" in err


def test_augmentation_of_points_is_refused(capsys) -> None:
    err = validate_error(capsys, "vanilla-ring8", "--set", 'augment={name = "diffaugment"}')
    assert "augment.name" in err and "image" in err
    err = validate_error(capsys, "dcgan-digits", "--set", 'augment={name = "mixup"}')
    assert "unknown augment 'mixup'" in err and "diffaugment" in err


# ---------------------------------------------------------------- InfoGAN's prior, owned by G
def test_the_infogan_generator_reads_uniform_codes_off_standard_normal_z() -> None:
    torch.manual_seed(0)
    G = InfoGANGenerator(InfoGANGeneratorOptions(noise_dim=5, width=8), shape=(1, 16, 16))
    assert G.latent_dim == 5 + 10 + 2
    z = torch.randn(20_000, G.latent_dim)
    codes = G.latent_codes(z)
    counts = torch.bincount(codes["categorical"], minlength=10).float() / len(z)
    assert torch.allclose(counts, torch.full((10,), 0.1), atol=0.01)  # arg-max of iid normals: uniform
    assert torch.equal(codes["continuous"], z[:, 15:])
    rows = G.vary(z[:3], "categorical")
    assert rows.shape == (30, 17) and torch.equal(G.latent_codes(rows)["categorical"], torch.arange(10).repeat(3))
    assert torch.equal(rows[:10, :5], z[:1, :5].expand(10, 5))  # the noise stays fixed along a row
    rows = G.vary(z[:2], "continuous-1")
    assert torch.allclose(rows[:10, 16], torch.linspace(-2, 2, 10)) and torch.equal(rows[:10, 15], z[0, 15].expand(10))
    with pytest.raises(ValueError, match="unknown code"):
        G.vary(z[:1], "colour")


def test_the_code_to_class_error_takes_the_best_one_to_one_mapping() -> None:
    perfect = torch.eye(10, dtype=torch.long)[torch.randperm(10)] * 50
    assert _one_to_one_error(perfect) == 0.0 and _many_to_one_error(perfect) == 0.0
    two_codes_one_class = torch.zeros(10, 10, dtype=torch.long)
    two_codes_one_class[torch.arange(10), torch.tensor([0, 0, 2, 3, 4, 5, 6, 7, 8, 9])] = 10
    assert _many_to_one_error(two_codes_one_class) == 0.0
    assert _one_to_one_error(two_codes_one_class) == pytest.approx(0.1)


def test_the_real_information_term_rewards_confident_balanced_guesses() -> None:
    """log k when each real image gets one code value with certainty and every value is used equally; 0 when
    Q says the same thing of every image; and the gradient in D's step moves Q toward the first."""
    from ganzoo_infogan.loss import real_information

    codes = {"continuous": torch.zeros(10, 2)}
    confident = DOutput(torch.zeros(10), {"codes": torch.cat([torch.eye(10) * 50, torch.zeros(10, 2)], dim=1)})
    assert float(real_information(confident, codes)) == pytest.approx(torch.log(torch.tensor(10.0)).item(), abs=1e-4)
    unsure = DOutput(torch.zeros(10), {"codes": torch.zeros(10, 12)})
    assert float(real_information(unsure, codes)) == pytest.approx(0.0, abs=1e-6)
    same = DOutput(torch.zeros(10), {"codes": torch.cat([torch.zeros(10, 1) + 50, torch.zeros(10, 11)], dim=1)})
    assert float(real_information(same, codes)) == pytest.approx(0.0, abs=1e-4)
    logits = (torch.eye(10) * 0.5).requires_grad_(True)
    guess = DOutput(torch.zeros(10), {"codes": torch.cat([logits, torch.zeros(10, 2)], dim=1)})
    real_information(guess, codes).backward()
    assert (logits.grad.diagonal() > 0).all()  # more confidence in each image's own value raises it


def test_the_q_network_has_its_hidden_layer_and_reads_features_before_minibatch_std() -> None:
    from ganzoo_infogan.models import InfoGANDiscriminator
    from ganzoo_infogan.options import InfoGANDiscriminatorOptions

    options = InfoGANDiscriminatorOptions(width=8, spectral_norm=True, minibatch_std=4, q_hidden=16)
    D = InfoGANDiscriminator(options, shape=(1, 16, 16))
    out = D(torch.randn(8, 1, 16, 16))
    assert out["logits"].shape == (8,) and out["codes"].shape == (8, 12)
    assert [type(m).__name__ for m in D.heads["codes"]] == ["Linear", "BatchNorm1d", "LeakyReLU", "Linear"]
    assert D.head.in_channels == D.heads["codes"][0].in_features // 16 + 1  # the std channel: the logit's only


# ---------------------------------------------------------------- DiffAugment
def test_diffaugment_is_differentiable_seeded_and_does_what_each_transform_says() -> None:
    x = (torch.rand(8, 1, 16, 16) * 2 - 1).requires_grad_(True)
    augment = DiffAugment(DiffAugmentOptions())
    a = augment(x, torch.Generator().manual_seed(3))
    b = augment(x, torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and a.shape == x.shape and not torch.equal(a, x)
    a.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    ones = torch.ones(64, 1, 16, 16)
    cut = DiffAugment(DiffAugmentOptions(policy=("cutout",)))(ones, torch.Generator().manual_seed(0))
    zeroed = (cut == 0).flatten(1).float().mean(1)
    assert zeroed.max() == pytest.approx(0.25) and zeroed.min() > 0  # an 8x8 square, clipped at the border
    moved = DiffAugment(DiffAugmentOptions(policy=("translation",)))(ones, torch.Generator().manual_seed(0))
    assert set(moved.unique().tolist()) <= {0.0, 1.0} and (moved.flatten(1).sum(1) >= (16 - 2) ** 2).all()
    assert not torch.equal(moved, ones)
    never = DiffAugment(DiffAugmentOptions(probability=0.0))(x, torch.Generator().manual_seed(0))
    assert torch.equal(never, x)


@pytest.mark.parametrize("g_step, sizes", [("eval", [8, 4]), ("fresh-reals", [8, 8])])
def test_the_trainer_augments_reals_and_fakes_alike_in_both_steps(g_step: str, sizes: list[int]) -> None:
    calls: list[tuple[int, torch.Generator]] = []

    def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        calls.append((len(x), generator))
        return x.flip(-1)

    torch.manual_seed(0)
    G = ganzoo.build_generator("dcgan", shape=(1, 16, 16), latent_dim=8, width=8)
    D = ganzoo.build_discriminator("dcgan", shape=(1, 16, 16), width=8)
    trainer = ganzoo.Trainer(G, D, "non-saturating", ganzoo.build_dataset("digits", image_size=16), steps=1,
                             batch_size=4, device="cpu", quiet=True, augment=augment, g_step_batchnorm=g_step)
    trainer.fit()
    # D's step: reals and fakes in one batch; G's step: the fakes alone (BatchNorm D in eval mode, the default),
    # or reals beside them ("fresh-reals"): whatever D sees goes through the augmentation
    assert [n for n, _ in calls] == sizes
    assert all(generator is trainer.streams.augment for _, generator in calls)


def test_the_d_output_of_a_mapping_splits_every_extra() -> None:
    out = DOutput.of({"logits": torch.arange(4.0), "class_logits": torch.arange(8.0).view(4, 2)})
    real, fake = out.split(1)
    assert real.logits.tolist() == [0.0] and fake["class_logits"].shape == (3, 2)
    assert DOutput.of(out) is out and DOutput.of(torch.zeros(2)).extras == {}


# ---------------------------------------------------------------- resume with a regulariser and augmentation on
def lazy_r1_diffaug(steps: int) -> Any:
    raw = read_toml(resolve_recipe_path("dcgan-r1-diffaug-digits"))
    raw["regularizer"] = [{"name": "r1", "weight": 1.0, "every": 3}]  # due at critic steps 0, 3, 6...
    sets = tiny("dcgan-r1-diffaug-digits", steps=steps, checkpoint_every=2) + ["train.ema=0.99"]
    return recipe_from_dict(apply_overrides(raw, sets, "test"), source="test")


def test_resume_is_bit_identical_with_a_lazy_regulariser_and_diffaugment(tmp_path) -> None:
    second = resumed_like_uninterrupted(lazy_r1_diffaug(steps=7), tmp_path, until=4, weights=(
        "generator.safetensors", "generator-ema.safetensors", "discriminator.safetensors"))
    assert second.d_updates == 7  # 4 before the stop, 3 after
    rows = [json.loads(line) for line in (tmp_path / "half" / "metrics.jsonl").read_text().splitlines()]
    assert all("penalty" in row for row in rows if "d_loss" in row)


# ---------------------------------------------------------------- ACGAN and InfoGAN weights, used alone
@pytest.fixture(scope="module")
def aux_runs(tmp_path_factory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("aux")
    runs = {}
    for name in ("acgan-digits", "infogan-digits"):
        runs[name] = root / name
        assert main(["run", name, *set_args(tiny(name, steps=2)), "--out", str(runs[name]), "--quiet"]) == 0
    return runs


@pytest.mark.slow  # fresh interpreters: about 10 s each, mostly importing torch
def test_acgan_and_infogan_weights_sample_in_a_fresh_process(aux_runs, tmp_path) -> None:
    acgan = run_cli("sample", aux_runs["acgan-digits"] / "generator-ema.safetensors", "-n", "20", "--class", "3",
                    "--out", "a.png", cwd=tmp_path)
    assert acgan.returncode == 0, acgan.stderr
    info = run_cli("sample", aux_runs["infogan-digits"], "-n", "30", "--vary", "categorical", "--out", "t.png",
                   cwd=tmp_path)
    assert info.returncode == 0, info.stderr
    assert "wrote 30 samples" in info.stdout
    from PIL import Image

    width, height = Image.open(tmp_path / "t.png").size
    assert width > 2 * height  # 3 rows of 10 values


def test_vary_on_a_generator_without_codes_is_one_line(aux_runs, tmp_path, capsys) -> None:
    assert main(["sample", str(aux_runs["acgan-digits"]), "--vary", "categorical", "--out", str(tmp_path / "x.png")]) == 2
    assert_one_line_error(capsys.readouterr().err, "no latent codes to vary")
    assert main(["sample", str(aux_runs["infogan-digits"]), "--vary", "colour", "--out", str(tmp_path / "x.png")]) == 2
    assert_one_line_error(capsys.readouterr().err, "allowed: categorical, continuous-0, continuous-1")
    assert main(["sample", str(aux_runs["infogan-digits"]), "--vary", "continuous-1", "-n", "20",
                 "--out", str(tmp_path / "c.png")]) == 0


def test_eval_applies_to_acgan_and_infogan_runs(aux_runs, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))
    fast = ["--set", "conditional-accuracy.epochs=2", "--set", "infogan-codes.epochs=2"]
    capsys.readouterr()
    assert main(["eval", str(aux_runs["acgan-digits"]), "-n", "200", "--metric", "conditional-accuracy", *fast[:2],
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert 0 <= report["metrics"]["conditional-accuracy"]["accuracy"] <= 1
    assert main(["eval", str(aux_runs["infogan-digits"]), "-n", "200", "--metric", "infogan-codes", *fast[2:],
                 "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)["metrics"]["infogan-codes"]
    assert set(figures) == {"error", "error_many_to_one", "classifier_test_accuracy"}
    assert 0 <= figures["error_many_to_one"] <= figures["error"] <= 1


# ---------------------------------------------------------------- the guide's examples of the new kinds
def guide_module(marker: str) -> Any:
    """The Python block of docs/plugins.md that registers ``marker``, as a module."""
    import re
    import types
    from pathlib import Path

    guide = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"
    if not guide.is_file():  # pragma: no cover - an sdist without docs/
        pytest.skip("docs/plugins.md is not in this checkout")
    blocks = [b for b in re.findall(r"^```python\n(.*?)^```$", guide.read_text(), flags=re.S | re.M) if marker in b]
    assert len(blocks) == 1, marker
    module = types.ModuleType(f"guide_{marker}")
    exec(compile(blocks[0], f"docs/plugins.md ({marker})", "exec"), module.__dict__)
    return module


def test_the_guides_regulariser_augmentation_and_auxiliary_loss_work(ganzoo_plugin) -> None:
    for index, marker in enumerate(("register_regularizers", "register_augments", '"class-head"')):
        ganzoo_plugin(guide_module(marker), name=f"guide-{index}")
    torch.manual_seed(0)
    G = ganzoo.build_generator("dcgan", shape=(1, 16, 16), num_classes=10, latent_dim=8, width=8)
    D = ganzoo.build_discriminator("acgan", shape=(1, 16, 16), num_classes=10, width=8)
    trainer = ganzoo.Trainer(G, D, ganzoo.build_loss("class-head"), ganzoo.build_dataset("digits", image_size=16),
                             steps=2, batch_size=8, device="cpu", quiet=True, num_classes=10,
                             regularizers=[ganzoo.build_regularizer("grad-norm", weight=0.5, every=2)],
                             augment=ganzoo.build_augment("flip", shape=(1, 16, 16)))
    row = trainer.fit()
    assert row["step"] == 2 and row["penalty"] > 0
