"""The CLI's own flags made hostile: sizes past what one call may allocate, flags that contradict each other,
seeds and chain lengths past their bounds, --data that changes what the generator is compared with. Each is
one line naming the flag and what is allowed, exit 2, checked before anything is drawn."""

from __future__ import annotations

import pytest
from hostile_runs import RING, train
from helpers_training import assert_one_line_error

from ganzoo.cli.main import main

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
    return train(RING, tmp_path_factory.mktemp("ring") / "run")


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    return train("dcgan-digits", tmp_path_factory.mktemp("digits") / "run")  # 1 x 16 x 16 images


def refuse(args, capsys, *fragments):
    assert main([str(a) for a in args]) == 2
    assert_one_line_error(capsys.readouterr().err, *fragments)


def test_a_million_images_are_refused_with_the_bound_before_drawing(digits_run, tmp_path, capsys):
    refuse(["sample", digits_run, "-n", "1000000", "--out", tmp_path / "x.npy"], capsys,
           "-n 1000000: 1,000,000 samples of shape (1, 16, 16) are 256,000,000 values",
           "at most 67,108,864 per call (here -n 262,144)")
    assert not (tmp_path / "x.npy").exists()


def test_a_million_points_as_npy_are_fine_but_not_as_a_grid(ring_run, tmp_path, capsys):
    refuse(["sample", ring_run, "-n", "1000000", "--out", tmp_path / "x.png"], capsys,
           "-n 1000000: a .png grid holds at most 10,000 samples")


def test_vary_with_class_is_refused_not_ignored(tmp_path, capsys, ring_run):
    refuse(["sample", ring_run, "--vary", "categorical", "--class", "3", "--out", tmp_path / "x.png"], capsys,
           "--vary categorical with --class 3", "give one of the two")


def test_vary_with_a_guide_is_refused(tmp_path, capsys, ring_run):
    refuse(["sample", ring_run, "--vary", "categorical", "--guide", "drs", "--out", tmp_path / "x.png"], capsys,
           "--vary categorical with --guide drs")


@pytest.mark.parametrize("command", ["sample", "eval"])
def test_a_chain_past_its_bound_is_refused(ring_run, tmp_path, capsys, command):
    out = ["--out", tmp_path / "x.png"] if command == "sample" else []
    refuse([command, ring_run, "--guide", "mh", "--guide-steps", "1000000000", *out], capsys,
           "--guide-steps 1000000000: must be between 1 and 10000")


def test_a_guide_with_a_seed_near_2_63_is_one_line(ring_run, tmp_path, capsys):
    refuse(["sample", ring_run, "--guide", "drs", "--seed", str(2**63 - 3), "--out", tmp_path / "x.png"], capsys,
           f"--seed {2**63 - 3}: with --guide, must be between 0 and 4294967295")


def test_an_unguided_sample_keeps_its_seed_range(ring_run, tmp_path, capsys):
    assert main(["sample", str(ring_run), "--seed", str(2**63 - 3), "--out", str(tmp_path / "x.npy")]) == 0


@pytest.mark.parametrize("size", ["8", "1024"])
def test_eval_data_of_another_image_size_is_refused(digits_run, capsys, size):
    """8 px data for a 16 px generator gave meaningless figures and exit 0; 1024 px ran out of memory."""
    refuse(["eval", digits_run, "-n", "50", "--metric", "duplicates", "--data", f"image_size={size}"], capsys,
           f"with --data image_size={size} has samples of shape [1, {size}, {size}]",
           "the generator makes [1, 16, 16]")


def test_eval_data_of_the_same_size_is_taken(digits_run, capsys):
    assert main(["eval", str(digits_run), "-n", "50", "--metric", "duplicates", "--data", "image_size=16",
                 "--json"]) == 0


def test_set_reaches_an_entry_of_a_list_of_tables(tmp_path, capsys):
    """README says --set overrides any field: a [[regularizer]] entry by its index too."""
    from ganzoo.recipe import load_recipe

    recipe = load_recipe("dcgan-r1-diffaug-digits", ["regularizer.0.weight=5"])
    assert recipe.regularizers[0].schedule.weight == 5
    assert main(["validate", "dcgan-r1-diffaug-digits", "--set", "regularizer.0.weight=5"]) == 0


@pytest.mark.parametrize("key, says", [("regularizer.3.weight", "regularizer.3: no such entry in a list of 1"),
                                       ("regularizer.x.weight", "regularizer.x: no such entry"),
                                       ("regularizer.-1.weight", "indices: 0 to 0")])
def test_set_past_a_lists_end_is_one_line(capsys, key, says):
    refuse(["validate", "dcgan-r1-diffaug-digits", "--set", f"{key}=5"], capsys, says, f"--set {key} cannot apply")
