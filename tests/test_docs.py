"""README and docs/plugins.md say what the code does: the Measured prose agrees with the quality tables, the
guide's metric example computes on a real context, its error and tracker sections name what exists."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

import ganzoo
from ganzoo import errors
from ganzoo.training.tracking import TRACKERS

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
GUIDE = ROOT / "docs" / "plugins.md"
RESULTS = ROOT / "benchmarks" / "RESULTS-quality.md"


def _text(path: Path) -> str:
    if not path.is_file():  # pragma: no cover - an sdist without docs/ or benchmarks/
        pytest.skip(f"{path.name} is not in this checkout")
    return path.read_text(encoding="utf-8")


def test_readme_measured_prose_agrees_with_the_quality_tables():
    readme, results = _text(README), _text(RESULTS)
    prose = " ".join(readme.split("### Measured", 1)[1].split("###", 1)[0].split())
    seed0 = re.search(r"^\| cdcgan-digits \| 0 \|.*$", results, flags=re.M).group(0)
    figures = dict(re.findall(r"([\w-]+/[\w]+) ([\d.]+)", seed0))
    accuracy = 100 * float(figures["conditional-accuracy/accuracy"])
    assert f"accuracy {accuracy:.1f}%" in prose
    assert f"Fréchet distance {float(figures['classifier-fd/fd']):.1f}" in prose
    assert f"{float(figures['classifier-fd/fd_ratio']):.1f} times the" in prose
    fd = float(figures["classifier-fd/fd"])
    floor = float(figures.get("classifier-fd/fd_floor", fd / float(figures["classifier-fd/fd_ratio"])))
    assert f"floor of {floor:.2f}" in prose
    # the quality table: recipe | steps | train s | cond. acc. % | FD / floor | ...
    row = re.search(r"^\| \*\*cdcgan-digits\*\* .*$", readme, flags=re.M).group(0)
    cells = [cell.strip() for cell in row.split("|")[1:-1]]
    mean = lambda cell: cell.split(" ± ")[0]  # noqa: E731
    assert f"accuracy {mean(cells[3])}%" in prose
    assert f", {mean(cells[4])} times the floor" in prose


def _guide_block(marker: str) -> str:
    blocks = re.findall(r"^```python\n(.*?)^```$", _text(GUIDE), flags=re.S | re.M)
    (block,) = [text for text in blocks if marker in text]
    return block


def test_guide_metric_example_computes_on_a_real_context(ganzoo_plugin):
    import torch

    from ganzoo.evaluation import EvalContext, evaluate
    from ganzoo.weights import ModelCard

    module = types.ModuleType("guide_metric")
    sys.modules[module.__name__] = module
    try:
        exec(compile(_guide_block("class MeanNorm"), str(GUIDE), "exec", dont_inherit=True), module.__dict__)  # noqa: S102
    finally:
        del sys.modules[module.__name__]
    ganzoo_plugin(module, name="guide-metric")
    torch.manual_seed(0)
    generator = ganzoo.build_generator("mlp", shape=(2,), latent_dim=4, hidden_dims=[8])
    card = ModelCard(role="generator", component="mlp", plugin="mlp", options={}, shape=(2,), num_classes=0,
                     latent_dim=4, recipe={"data": {"name": "ring8"}})
    context = EvalContext(generator, card, n=200, device="cpu")
    results = evaluate(context, ["mean-norm"])
    assert set(results["mean-norm"]) == {"norm", "norm_floor"}
    real, _ = context.real("test", 200)
    assert results["mean-norm"]["norm_floor"] == pytest.approx(float(real.norm(dim=1).mean()))
    assert results["mean-norm"]["norm"] == pytest.approx(float(context.samples()[0].norm(dim=1).mean()))
    assert "mean-norm" in ganzoo.evaluation.default_metrics(context)  # applies_to: flat data


def test_guide_error_section_names_real_exceptions_and_bad_options_raise_recipe_error():
    guide = _text(GUIDE)
    for name in re.findall(r"`(?:ganzoo\.errors\.)?(\w+Error)`", guide.split("## Errors", 1)[1].split("\n## ", 1)[0]):
        assert name == "ValueError" or hasattr(errors, name), name
    with pytest.raises(errors.RecipeError) as caught:
        ganzoo.build_generator("dcgan", shape=(1, 16, 16), width=0)
    assert not isinstance(caught.value, ValueError)
    assert caught.value.path == "generator.width" and ">= 1" in caught.value.detail


def test_docs_name_the_trackers_that_exist():
    guide, readme = _text(GUIDE), _text(README)
    for name in TRACKERS:
        assert f'"{name}"' in guide and f"`{name}`" in readme


def test_readme_from_python_example_runs_as_written(tmp_path):
    """README's "From Python" block, run in a fresh interpreter in an empty folder with only its step counts
    made small (the two `steps=` numbers), then checked: the Trainer's weights load back by their metadata
    alone and sample in the data's units."""
    import subprocess

    from helpers_training import cli_env

    block = _text(README).split("## From Python", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    quick, replaced = re.subn(r"(steps=)\d+", r"\g<1>3", block)
    assert replaced == 2, "the example's step counts changed: update this test"
    check = """
assert G.card.component == "dcgan" and G.card.step == 3 and G.card.num_classes == 10, G.card
assert G.card.units == {"scale": 0.5, "offset": 0.5}, G.card.units  # images: [-1, 1] -> [0, 1]
assert tuple(x.shape) == (64, 1, 16, 16) and float(x.min()) >= 0.0 and float(x.max()) <= 1.0
assert tuple(c.shape) == (64,) and result.step == 3
print("example ran")
"""
    script = tmp_path / "example.py"
    script.write_text(quick + check)
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                          env=cli_env(), timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "example ran" in done.stdout
    assert "records no data units" not in done.stderr
    assert (tmp_path / "runs" / "mine" / "generator.safetensors").is_file()
