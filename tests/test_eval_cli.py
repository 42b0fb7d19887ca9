"""``ganzoo eval`` on real (tiny) run directories: JSON with the expected keys, a table, exit 2 on bad input,
and a recipe's ``[eval] every`` writing figures into metrics.jsonl and quality.png."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from ganzoo.cli.main import main

TINY_MLP = ["--set", "generator.hidden_dims=[16]", "--set", "discriminator.hidden_dims=[16]", "--quiet"]
FAST = [arg for name in ("conditional-accuracy", "classifier-fd", "prdc", "intra-class", "duplicates")
        for arg in ("--set", f"{name}.epochs=5")]  # one shared classifier


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A cache of this module's own (classifier trained once for all its tests), one torch thread."""
    patch = pytest.MonkeyPatch()
    patch.setenv("GANZOO_CACHE", str(tmp_path_factory.mktemp("cache")))
    patch.delenv("GANZOO_INCEPTION_WEIGHTS", raising=False)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
    patch.undo()


@pytest.fixture(scope="module")
def ring_run(env, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "ring"
    code = main(["run", "vanilla-ring8", "--set", "train.steps=3", *TINY_MLP, "--out", str(out),
                 "--set", "eval.every=2", "--set", "eval.samples=200"])
    assert code == 0
    return out


@pytest.fixture(scope="module")
def digits_run(env, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "digits"
    code = main(["run", "cmlp-digits", "--set", "train.steps=3", "--set", "data.image_size=8",
                 "--set", "train.batch_size=16", *TINY_MLP, "--out", str(out)])
    assert code == 0
    return out


def eval_json(capsys, *argv: str) -> dict:
    capsys.readouterr()
    assert main(["eval", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_eval_of_a_ring_run_gives_mode_coverage(ring_run, capsys):
    report = eval_json(capsys, str(ring_run), "-n", "500", "--seed", "1")
    assert report["dataset"] == "ring8" and report["n"] == 500 and report["seed"] == 1
    assert report["weights"].endswith(("generator.safetensors", "generator-ema.safetensors"))
    assert list(report["metrics"]) == ["mode-coverage"]
    figures = report["metrics"]["mode-coverage"]
    assert set(figures) == {"modes", "total_modes", "high_quality", "reverse_kl"}
    assert figures["total_modes"] == 8 and 0 <= figures["high_quality"] <= 1


def test_eval_of_a_conditional_digits_run_gives_the_classifier_figures(digits_run, capsys):
    report = eval_json(capsys, str(digits_run), "-n", "400", *FAST)
    assert report["dataset"] == "digits" and report["conditional"] is True
    assert report["weights"].endswith("generator-ema.safetensors")  # the recipe keeps an EMA copy
    assert set(report["metrics"]) == {"conditional-accuracy", "classifier-fd", "prdc", "intra-class", "duplicates"}
    assert set(report["metrics"]["conditional-accuracy"]) == {"accuracy", "classifier_test_accuracy"}
    assert set(report["metrics"]["classifier-fd"]) == {"fd", "fd_floor", "fd_ratio"}
    assert 0 <= report["metrics"]["conditional-accuracy"]["accuracy"] <= 1
    assert {"recall", "recall_floor", "coverage", "coverage_floor"} <= set(report["metrics"]["prdc"])
    assert 0 <= report["metrics"]["intra-class"]["diversity_worst_class"] <= 9


def test_eval_of_the_main_recipe_names_the_worst_class(digits_run, capsys):
    capsys.readouterr()
    assert main(["eval", str(digits_run), "-n", "400", *FAST]) == 0
    out = capsys.readouterr().out
    assert "recall_floor" in out and "diversity_min" in out
    assert "worst class by intra-class diversity: " in out and "worst class by duplicates: " in out


def test_eval_with_too_few_samples_for_the_knn_metrics_is_one_line(digits_run, capsys):
    capsys.readouterr()
    assert main(["eval", str(digits_run), "-n", "4", "--metric", "prdc", "--set", "prdc.epochs=5"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "too few for k=5 nearest neighbours" in err


def test_eval_prints_a_table_by_default(ring_run, capsys):
    assert main(["eval", str(ring_run / "generator.safetensors"), "-n", "300"]) == 0
    out = capsys.readouterr().out
    assert "mode-coverage" in out and "high_quality" in out and "ring8" in out


def test_a_recipe_asking_for_evaluation_logs_it_during_training(ring_run):
    rows = [json.loads(line) for line in (ring_run / "metrics.jsonl").read_text().splitlines()]
    evaluated = [row["step"] for row in rows if "mode-coverage/modes" in row]
    assert evaluated == [2, 3]  # every 2 steps, and at the last one
    assert (ring_run / "quality.png").is_file()


@pytest.mark.parametrize("argv,message", [
    (["MISSING"], "no such weights file"),
    (["RING", "--metric", "mode-coverag"], "did you mean 'mode-coverage'"),
    (["RING", "-n", "1"], "must be >= 2"),
    (["RING", "--metric", "conditional-accuracy"], "takes image data, but the dataset gives flat samples"),
    (["RING", "--metric", "intra-class"], "takes image data, but the dataset gives flat samples"),
    (["RING", "--metric", "fid"], "metric 'fid' does not fit"),
    (["RING", "--set", "mode-coverage.threshold=0"], "must be > 0"),
    (["RING", "--set", "mode-coverage.nope=1"], "unknown key"),
    (["RING", "--metric", "mode-coverage", "--set", "parzen.test_points=5"], "not among the --metric"),
    (["RING", "--set", "threshold=3"], "METRIC.OPTION=VALUE"),
    (["NOT_WEIGHTS"], "not a readable safetensors file"),
    (["EMPTY_DIR"], "is it a finished ganzoo run"),
], ids=["missing", "unknown-metric", "n", "wrong-data", "class-metric-unlabelled", "no-inception", "bad-option", "unknown-option",
        "option-for-other-metric", "option-without-metric", "not-weights", "empty-dir"])
def test_bad_input_is_one_line_and_exit_2(ring_run, tmp_path, capsys, argv, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "junk.safetensors").write_text("junk")
    paths = {"MISSING": str(tmp_path / "missing"), "RING": str(ring_run), "EMPTY_DIR": str(tmp_path / "empty"),
             "NOT_WEIGHTS": str(tmp_path / "junk.safetensors")}
    capsys.readouterr()
    assert main(["eval", *(paths.get(arg, arg) for arg in argv)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and err.startswith("ganzoo: error:")


def test_bad_arguments_are_rejected_before_torch_is_imported(tmp_path):
    code = (
        "import sys\nfrom ganzoo.cli.main import main\n"
        f"code = main(['eval', {str(tmp_path)!r}, '--metric', 'nope'])\n"
        "assert code == 2, code\nassert 'torch' not in sys.modules, 'torch imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
