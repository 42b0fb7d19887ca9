"""Run folders made hostile: symbolic links where a run writes, a user's own files under --out, a resume
whose recipe changes the data or the models, and a report over files ganzoo did not write. Each case: one
line naming the file, exit 2, nothing outside the run folder touched, nothing of the user's lost."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from helpers_training import assert_one_line_error
from hostile_runs import train

import ganzoo
from ganzoo.cli.main import main
from ganzoo.errors import GanzooError
from ganzoo.run_lock import LOCK_NAME

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = {
    "name": "tiny-ring",
    "seed": 3,
    "data": {"name": "ring8"},
    "generator": {"name": "mlp", "latent_dim": 4, "hidden_dims": [16]},
    "discriminator": {"name": "mlp", "hidden_dims": [16]},
    "loss": {"name": "non-saturating"},
    "train": {"steps": 4, "batch_size": 8, "log_every": 1, "grid_size": 8, "device": "cpu", "checkpoint_every": 2},
}


def write_recipe(folder: Path, raw: dict = TINY) -> Path:
    import tomli_w

    path = folder / f"{raw['name']}.toml"
    path.write_text(tomli_w.dumps(raw))
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train(TINY, tmp_path_factory.mktemp("ring") / "run")


@pytest.fixture
def run_copy(trained, tmp_path):
    return Path(shutil.copytree(trained, tmp_path / "run"))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------- links where a run writes
@pytest.mark.parametrize("fresh", [False, True], ids=["resume", "fresh"])
def test_a_lock_file_that_is_a_link_is_refused_and_its_target_untouched(run_copy, tmp_path, capsys, fresh):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    folder = tmp_path / "empty" if fresh else run_copy
    folder.mkdir(exist_ok=True)
    (folder / LOCK_NAME).symlink_to(victim)
    args = ["run", str(write_recipe(tmp_path)), "--out", str(folder)] if fresh else ["run", "--resume", str(folder)]
    assert main([*args, "--quiet", "--set", "train.steps=6"]) == 2
    assert_one_line_error(capsys.readouterr().err, f"{folder / LOCK_NAME}: is a symbolic link")
    assert victim.read_text() == "precious"
    assert (folder / LOCK_NAME).is_symlink()  # the user's link is theirs to remove


def test_a_lock_that_is_a_folder_is_one_line(tmp_path, capsys):
    folder = tmp_path / "run"
    (folder / LOCK_NAME).mkdir(parents=True)
    assert main(["run", str(write_recipe(tmp_path)), "--out", str(folder), "--quiet"]) == 2
    assert_one_line_error(capsys.readouterr().err, f"{folder / LOCK_NAME}: is not a file")


@pytest.mark.parametrize("name", ["metrics.jsonl", "checkpoints", "samples", "recipe.toml"])
def test_a_resume_through_a_link_is_refused_and_writes_nothing(run_copy, tmp_path, capsys, name):
    elsewhere = tmp_path / "elsewhere"
    shutil.move(run_copy / name, elsewhere)
    (run_copy / name).symlink_to(elsewhere)
    before = elsewhere.read_bytes() if elsewhere.is_file() else snapshot(elsewhere)
    assert main(["run", "--resume", str(run_copy), "--quiet", "--set", "train.steps=6"]) == 2
    assert_one_line_error(capsys.readouterr().err, f"{run_copy / name}: is a symbolic link")
    assert (elsewhere.read_bytes() if elsewhere.is_file() else snapshot(elsewhere)) == before


# ---------------------------------------------------------------- the user's own files
def test_out_holding_the_users_files_is_refused_and_they_are_kept(tmp_path, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "metrics.jsonl").write_text('{"mine": 1}\n')
    (folder / "recipe.toml").write_text("my notes\n")
    (folder / "curves.png").write_text("not even a png")
    before = snapshot(folder)
    assert main(["run", str(write_recipe(tmp_path)), "--out", str(folder), "--quiet"]) == 2
    assert_one_line_error(capsys.readouterr().err, f"--out {folder}: holds files ganzoo did not write",
                          "curves.png, metrics.jsonl, recipe.toml", "choose a new or empty folder")
    assert snapshot(folder) == before


def test_out_an_existing_folder_of_other_things_is_refused(tmp_path, capsys):
    folder = tmp_path / "project"
    (folder / "src").mkdir(parents=True)
    (folder / "notes.txt").write_text("x")
    assert main(["run", str(write_recipe(tmp_path)), "--out", str(folder), "--quiet"]) == 2
    assert_one_line_error(capsys.readouterr().err, "holds files ganzoo did not write (notes.txt, src)")
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt", "src"]


def test_an_empty_existing_out_is_taken(tmp_path, capsys):
    folder = tmp_path / "empty"
    folder.mkdir()
    assert main(["run", str(write_recipe(tmp_path)), "--out", str(folder), "--quiet", "--set", "train.steps=2"]) == 0
    assert (folder / "generator.safetensors").is_file()


# ---------------------------------------------------------------- a resume that changes what trained
def test_a_resume_with_another_recipes_data_is_refused_naming_the_change(run_copy, tmp_path, capsys):
    other = write_recipe(tmp_path, {**TINY, "name": "tiny-grid", "data": {"name": "grid25"}})
    before = snapshot(run_copy)
    assert main(["run", str(other), "--resume", str(run_copy), "--quiet"]) == 2
    assert_one_line_error(capsys.readouterr().err, f"--resume {run_copy}: the recipe changes what the run trained",
                          'data.name: "ring8" -> "grid25"')
    assert snapshot(run_copy) == before


def test_a_shipped_recipe_of_other_models_cannot_resume_a_run(run_copy, capsys):
    before = snapshot(run_copy)
    assert main(["run", "vanilla-grid25", "--resume", str(run_copy), "--quiet"]) == 2
    assert_one_line_error(capsys.readouterr().err, "the recipe changes what the run trained", "data.name")
    assert snapshot(run_copy) == before


def test_a_recipe_toml_edited_to_other_data_is_caught_by_the_weights_record(run_copy, capsys):
    recipe = run_copy / "recipe.toml"
    recipe.write_text(recipe.read_text().replace('name = "ring8"', 'name = "grid25"'))
    before = snapshot(run_copy)
    assert main(["run", "--resume", str(run_copy), "--quiet"]) == 2
    assert_one_line_error(capsys.readouterr().err, 'data.name: "ring8" -> "grid25"',
                          f"recorded in {run_copy / 'generator.safetensors'}")
    assert snapshot(run_copy) == before


@pytest.mark.parametrize("section, table, says", [
    ("data", {"name": "grid25"}, 'data.name: "ring8" -> "grid25"'),
    ("generator", {**TINY["generator"], "hidden_dims": [32]}, "generator.hidden_dims: [16] -> [32]"),
], ids=["data", "models"])
def test_a_resume_from_python_is_held_to_the_run_as_from_the_cli(run_copy, section, table, says):
    before = snapshot(run_copy)
    with pytest.raises(GanzooError) as caught:
        ganzoo.run_recipe({**TINY, section: table}, resume=run_copy, quiet=True)
    message = str(caught.value)
    assert len(message.splitlines()) == 1 and "the recipe changes what the run trained" in message
    assert says in message
    assert snapshot(run_copy) == before


def test_a_resume_may_change_how_long_it_trains(run_copy, capsys):
    assert main(["run", "--resume", str(run_copy), "--quiet", "--set", "train.steps=6"]) == 0
    assert ganzoo.load_generator(run_copy).card.step == 6


# ---------------------------------------------------------------- report over hostile files
def test_report_refuses_a_linked_curves_png_and_inlines_nothing(run_copy, tmp_path, capsys):
    secret = tmp_path / "secret.png"
    secret.write_bytes((run_copy / "curves.png").read_bytes())
    (run_copy / "curves.png").unlink()
    (run_copy / "curves.png").symlink_to(secret)
    assert main(["report", str(run_copy)]) == 2
    assert_one_line_error(capsys.readouterr().err, f"{run_copy / 'curves.png'}: is a symbolic link")
    assert not (run_copy / "report.html").exists()


@pytest.mark.parametrize("content", [b"", b"garbage, not a png", b"\x89PNG\r\n\x1a\n" + b"\0" * 20],
                         ids=["empty", "text", "cut-png"])
def test_report_on_a_bad_grid_names_it(run_copy, capsys, content):
    grid = next((run_copy / "samples").glob("step-*.png"))
    grid.write_bytes(content)
    assert main(["report", str(run_copy)]) == 2
    assert_one_line_error(capsys.readouterr().err, f"{grid}: not a readable PNG image")


def test_report_reads_a_hand_edited_log(run_copy, capsys):
    """A non-UTF-8 line, a string step, rows lacking figures, a string figure: passed over, the rest shown."""
    with (run_copy / "metrics.jsonl").open("ab") as log:
        log.write(b'\xff\xfe{"step": 9}\n{"step": "ten", "d_loss": 1.0}\n{"step": 11, "d_loss": 0.5}\n'
                  b'{"step": 12, "d_loss": "high", "d_real": 0.5, "d_fake": 0.5}\n{"step": 13, "x/worst_class": 1e400}\n')
    (run_copy / "curves.png").unlink()  # drawn from the log instead
    assert main(["report", str(run_copy)]) == 0
    assert "<h2>Curves</h2><img" in (run_copy / "report.html").read_text().replace("\n", "")


def test_report_on_a_recipe_whose_section_has_the_wrong_type(run_copy, capsys):
    (run_copy / "recipe.toml").write_text('train = "fast"\ngenerator = 3\n[data]\nname = "ring8"\n')
    assert main(["report", str(run_copy)]) == 0


def test_report_on_a_recipe_that_is_not_utf8_is_one_line(run_copy, capsys):
    (run_copy / "recipe.toml").write_bytes(b'name = "\xff"\n')
    assert main(["report", str(run_copy)]) == 2
    assert_one_line_error(capsys.readouterr().err, "recipe.toml: not UTF-8")


def test_report_out_naming_a_folder_is_one_line(run_copy, tmp_path, capsys):
    folder = tmp_path / "page.html"
    folder.mkdir()
    assert main(["report", str(run_copy), "--out", str(folder)]) == 2
    assert_one_line_error(capsys.readouterr().err, f"--out {folder}: is a folder")


def test_report_refuses_a_grid_too_large_before_decoding_it(run_copy, capsys):
    from PIL import Image

    grid = next((run_copy / "samples").glob("step-*.png"))
    Image.new("1", (9000, 8000)).save(grid)  # 72 megapixels in a few kilobytes
    assert grid.stat().st_size < 100_000
    assert main(["report", str(run_copy)]) == 2
    assert_one_line_error(capsys.readouterr().err, f"{grid}: 9000x8000 pixels", "at most 64,000,000")


# ---------------------------------------------------------------- crafted checkpoints
def _craft(path: Path, skeleton: str) -> None:
    from safetensors.torch import save_file

    save_file({"t0": torch.zeros(1)}, str(path), metadata={"ganzoo.checkpoint": skeleton})


@pytest.mark.parametrize("skeleton", ['{"__tensor__": "t99"}', '[' * 100_000 + ']' * 100_000,
                                      '{"__dict__": [[1, ' * 5000 + '0' + ']]}' * 5000, '"just a string"'],
                         ids=["missing-tensor", "deep-json", "deep-structure", "not-a-table"])
def test_a_crafted_newest_checkpoint_falls_back_to_the_one_before(run_copy, capsys, skeleton):
    newest = max((run_copy / "checkpoints").glob("step-*.safetensors"))
    _craft(newest, skeleton)
    assert main(["run", "--resume", str(run_copy), "--quiet", "--set", "train.steps=6"]) == 0
    err = capsys.readouterr().err
    assert f"{newest}: not a ganzoo checkpoint" in err and "resuming from the checkpoint before it" in err
    assert "Traceback" not in err
    assert ganzoo.load_generator(run_copy).card.step == 6


def test_every_checkpoint_crafted_is_a_note_then_one_error_line(run_copy, capsys):
    for path in (run_copy / "checkpoints").glob("step-*.safetensors"):
        _craft(path, '{"__tensor__": "t99"}')
    assert main(["run", "--resume", str(run_copy), "--quiet", "--set", "train.steps=6"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert "resuming from the checkpoint before it" in lines[0]  # the newest one's note
    assert_one_line_error(lines[-1], "step-000002.safetensors: not a ganzoo checkpoint")
    assert len(lines) == 2
