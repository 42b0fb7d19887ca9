"""Top-k training (``train.g_top_k``): G's loss reads only the fakes D rates most real, k falling from the whole
batch to its floor over the first fifth of the run; exercised as a recipe uses it (validation and a tiny run
through the CLI) and inside the trainer with a loss that records what G's step hands it."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from helpers_training import assert_one_line_error, run_cli, set_args, tiny
from safetensors.torch import load_file

import ganzoo
from ganzoo.cli.main import main
from ganzoo.components import DOutput, GBatch
from ganzoo.training.topk import keep_top, top_k_count
from ganzoo_losses.hinge import HingeLoss

pytestmark = pytest.mark.usefixtures("one_thread")


def test_k_falls_from_the_whole_batch_to_its_floor_over_the_first_fifth() -> None:
    counts = [top_k_count(step, 100, 64, 0.5) for step in range(100)]
    assert counts[0] == 64 and counts[10] == 48 and all(count == 32 for count in counts[20:])
    assert counts == sorted(counts, reverse=True)
    assert {top_k_count(step, 100, 64, 1.0) for step in range(100)} == {64}
    assert top_k_count(99, 100, 3, 0.01) == 1  # never an empty batch


def test_keep_top_keeps_the_best_rated_fakes_with_their_own_labels_codes_and_pairs() -> None:
    logits = torch.tensor([0.3, -2.0, 5.0, 1.0, -0.5, 2.0])
    rows = torch.arange(6)
    batch = GBatch(fake=rows.float().view(6, 1), labels=rows, codes={"categorical": rows * 10},
                   fake_out=DOutput(logits, {"class_logits": rows.view(6, 1)}),
                   real_out=DOutput(-rows.float(), {}))
    kept = keep_top(batch, 3)
    chosen = sorted(kept.labels.tolist())
    assert chosen == [2, 3, 5]  # the three highest logits
    assert sorted(kept.fake.view(-1).long().tolist()) == chosen
    assert sorted(kept.codes["categorical"].tolist()) == [20, 30, 50]
    assert sorted(kept.fake_out["class_logits"].view(-1).tolist()) == chosen
    assert sorted((-kept.real_out.logits).long().tolist()) == chosen  # each fake keeps its paired real
    assert keep_top(batch, 6) is batch


class _RecordingHinge(HingeLoss):
    """The hinge loss, keeping the size of every batch G's step hands it."""

    def __init__(self) -> None:
        super().__init__()
        self.g_sizes: list[int] = []

    def g_objective(self, batch: GBatch) -> torch.Tensor:
        self.g_sizes.append(len(batch.fake_out.logits))
        return super().g_objective(batch)


@pytest.mark.parametrize("g_step_fakes", ["shared", "fresh"])
def test_the_trainer_hands_g_step_the_top_k_fakes(tmp_path, g_step_fakes: str) -> None:
    G = ganzoo.build_generator("dcgan", shape=(1, 16, 16), latent_dim=8, width=8)
    D = ganzoo.build_discriminator("dcgan", shape=(1, 16, 16), width=8, spectral_norm=True)
    loss = _RecordingHinge()
    ganzoo.Trainer(G, D, loss, ganzoo.build_dataset("digits", image_size=16), steps=10, batch_size=16,
                   device="cpu", run_dir=tmp_path / "run", g_top_k=0.25, g_step_fakes=g_step_fakes,
                   sample_every=0).fit()
    assert loss.g_sizes == [16, 10, 4, 4, 4, 4, 4, 4, 4, 4]


def test_a_top_k_recipe_trains_and_a_bad_fraction_is_refused_in_one_line(tmp_path, capsys: Any) -> None:
    run = tmp_path / "topk"
    done = run_cli("run", "dcgan-digits", "--out", str(run), "--quiet",
                   *set_args(tiny("dcgan-digits", extra=["train.g_top_k=0.5"])), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert load_file(run / "generator.safetensors")
    assert "g_top_k = 0.5" in (run / "recipe.toml").read_text()
    assert main(["validate", "dcgan-digits", "--set", "train.g_top_k=0"]) == 2
    err = capsys.readouterr().err
    assert_one_line_error(err)
    assert "train.g_top_k" in err and "> 0" in err
