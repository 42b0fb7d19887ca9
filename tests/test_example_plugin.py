"""Third-party plugins as they really ship: pip packages with a ``ganzoo`` entry point.

- ``examples/ganzoo-plugin-example`` is built and installed by pip into a temporary folder, then found
  through its real entry point by the CLI in a subprocess (``plugins``, ``list``, ``validate``, ``run``), and
  its own test suite (which uses the ``ganzoo_plugin`` fixture) runs against the installed copy.
- ``docs/plugins.md`` cannot rot: its twenty-line plugin is registered in-process with the fixture, and also
  installed by pip and tested with the guide's own test file; its tables and its ``register`` signature are
  checked against the code.
"""

from __future__ import annotations

import ast
import importlib
import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import types
from pathlib import Path
from types import SimpleNamespace

import attrs
import pytest

import ganzoo
from ganzoo import plugins as plugin_loading
from ganzoo.components import Component
from ganzoo.errors import DuplicateComponentError
from ganzoo.options import parse_options
from ganzoo.registration import KEYWORDS
from ganzoo.registry import HOOKS

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "ganzoo-plugin-example"
RECIPE = "recipes/ragan-resnet-shapes.toml"
GUIDE = ROOT / "docs" / "plugins.md"


# ---------------------------------------------------------------- helpers
def clean_env(site: Path) -> dict[str, str]:
    """The environment with ``site`` on the path, no GANZOO_* switches and no bytecode written."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GANZOO_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PIP_ROOT_USER_ACTION"] = "ignore"
    return env


def pip_install(source: Path, work: Path) -> tuple[Path, Path]:
    """Build and install the package at ``source`` with pip into ``work/site``; return (site, copy of source).

    pip builds in the source folder (``build/``, ``*.egg-info``), so a copy is built to keep the checkout
    clean. ``--no-deps --no-index --no-build-isolation``: nothing is fetched; setuptools is installed.
    """
    copy, site = work / "src", work / "site"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info", ".pytest_cache"))
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--no-build-isolation",
         "--disable-pip-version-check", "--quiet", "--target", str(site), str(copy)],
        capture_output=True, text=True, timeout=300, env=clean_env(site),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return site, copy


def ganzoo_cli(site: Path, *args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ganzoo.cli.main", *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd, env={**clean_env(site), **env})


def run_pytest(site: Path, tests: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests)],
                          capture_output=True, text=True, timeout=300, cwd=cwd, env=clean_env(site))


# ---------------------------------------------------------------- the example package
@pytest.fixture(scope="module")
def example(tmp_path_factory) -> tuple[Path, Path]:
    if not EXAMPLE.is_dir():  # pragma: no cover - an sdist without examples/
        pytest.skip("examples/ganzoo-plugin-example is not in this checkout")
    return pip_install(EXAMPLE, tmp_path_factory.mktemp("example"))


def test_example_is_installed_by_pip_with_a_real_entry_point(example):
    site, _ = example
    (info,) = site.glob("ganzoo_plugin_example-*.dist-info")
    assert "[ganzoo]\nexample = ganzoo_plugin_example" in (info / "entry_points.txt").read_text()
    assert "Requires-Dist: pyganzoo" in (info / "METADATA").read_text()


def test_ganzoo_plugins_shows_the_example(example):
    site, _ = example
    result = ganzoo_cli(site, "plugins", "--json")
    assert result.returncode == 0, result.stderr
    records = {record["name"]: record for record in json.loads(result.stdout)}
    record = records["example"]
    assert record["distribution"] == "ganzoo-plugin-example"
    assert (record["version"], record["source"]) == ("0.1.0", "entry point")
    assert record["error"] is None
    assert record["registered"] == {"generators": ["resnet"], "discriminators": ["resnet"], "losses": ["ragan"],
                                    "datasets": ["shapes"]}
    table = ganzoo_cli(site, "plugins")
    assert table.returncode == 0 and "ganzoo-plugin-example" in table.stdout


def test_the_example_keeps_the_contracts(example):
    site, _ = example
    result = ganzoo_cli(site, "plugins", "--check", "--json")  # builds resnet, ragan; asks shapes for its info
    assert result.returncode == 0, result.stdout + result.stderr
    (record,) = [r for r in json.loads(result.stdout) if r["name"] == "example"]
    assert record["factory_errors"] == []


def test_ganzoo_list_shows_the_example_beside_the_built_ins(example):
    site, _ = example
    result = ganzoo_cli(site, "list", "--json")
    assert result.returncode == 0, result.stderr
    rows = {(row["kind"], row["name"]): row for row in json.loads(result.stdout)}
    for key in [("generator", "resnet"), ("discriminator", "resnet"), ("loss", "ragan"), ("dataset", "shapes")]:
        assert rows[key]["plugin"] == "example"
    assert rows["generator", "mlp"]["plugin"] == "mlp"
    assert {option["name"] for option in rows["generator", "resnet"]["options"]} == {"latent_dim", "width"}
    assert "example" not in result.stderr  # it did not fail to load


def test_example_recipe_rejects_a_size_the_resnet_cannot_take(example):
    site, copy = example
    result = ganzoo_cli(site, "validate", str(copy / RECIPE), "--set", "data.image_size=12")
    assert result.returncode == 2
    assert "resnet takes square images" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_example_recipe_runs_through_the_cli(example, tmp_path):
    site, copy = example
    out = tmp_path / "run"
    result = ganzoo_cli(
        site, "run", str(copy / RECIPE), "--set", "train.steps=2", "--set", "train.batch_size=8",
        "--set", "train.grid_size=16", "--set", "generator.width=16", "--set", "discriminator.width=16",
        "--out", str(out), "--quiet", cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    for name in ["generator.safetensors", "discriminator.safetensors", "recipe.toml", "metrics.jsonl",
                 "samples/step-000002.png"]:
        assert (out / name).is_file(), name
    assert list((out / "checkpoints").iterdir())
    resolved = tomllib.loads((out / "recipe.toml").read_text())
    names = [resolved[section]["name"] for section in ("generator", "discriminator", "loss", "data")]
    assert names == ["resnet", "resnet", "ragan", "shapes"]
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["step"] == 2 and math.isfinite(rows[-1]["d_loss"]) and math.isfinite(rows[-1]["g_loss"])


def test_example_passes_its_own_tests_installed(example, tmp_path):
    site, copy = example
    result = run_pytest(site, copy / "tests", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b\d+ passed\b", result.stdout) and "failed" not in result.stdout


def test_example_hook_module_does_not_import_torch(example):
    site, _ = example
    code = "import sys, ganzoo_plugin_example; assert 'torch' not in sys.modules, 'torch imported'"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=clean_env(site),
                            timeout=60)
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------- the guide, docs/plugins.md
def guide_text() -> str:
    if not GUIDE.is_file():  # pragma: no cover - an sdist without docs/
        pytest.skip("docs/plugins.md is not in this checkout")
    return GUIDE.read_text()


def guide_blocks() -> list[tuple[str, str]]:
    """(language, text) of every fenced code block in the guide."""
    return re.findall(r"^```(\w*)\n(.*?)^```$", guide_text(), flags=re.S | re.M)


def guide_files() -> dict[str, str]:
    """The blocks that are files, by the path written on their first line (``# hello_gan/__init__.py``)."""
    files = {}
    for _, text in guide_blocks():
        first, _, rest = text.partition("\n")
        match = re.fullmatch(r"# ([\w/.-]+\.(?:py|toml))", first.strip())
        if match:
            files[match.group(1)] = rest
    return files


def write_guide_package(folder: Path) -> Path:
    for relative, text in guide_files().items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def test_guide_plugin_is_about_twenty_lines():
    files = guide_files()
    assert set(files) == {"pyproject.toml", "hello_gan/__init__.py", "hello_gan/loss.py", "tests/test_hello_gan.py"}
    code = [line for name in ("hello_gan/__init__.py", "hello_gan/loss.py") for line in files[name].splitlines()
            if line.strip()]
    assert len(code) <= 25, len(code)


def test_guide_plugin_registers_in_process_with_the_fixture(ganzoo_plugin, tmp_path, monkeypatch):
    write_guide_package(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        module = importlib.import_module("hello_gan")
        ganzoo_plugin(module, name="hello")
        component = ganzoo.registries().component("loss", "smooth-non-saturating")
        assert component.plugin == "hello"
        import torch

        loss = ganzoo.build_loss("smooth-non-saturating", real_target=0.9)
        real, fake = torch.full((3,), 2.0), torch.zeros(3)
        expected = 0.9 * math.log1p(math.exp(-2)) + 0.1 * math.log1p(math.exp(2)) + math.log(2)
        assert loss.d_loss(real, fake).item() == pytest.approx(expected)
        assert loss.g_loss(fake).item() == pytest.approx(math.log(2))
    finally:
        for name in ("hello_gan", "hello_gan.loss"):
            sys.modules.pop(name, None)


@pytest.fixture(scope="module")
def guide_package(tmp_path_factory) -> tuple[Path, Path]:
    source = write_guide_package(tmp_path_factory.mktemp("guide-source"))
    return pip_install(source, tmp_path_factory.mktemp("guide"))


def test_guide_plugin_installs_and_its_commands_work(guide_package, tmp_path):
    site, _ = guide_package
    result = ganzoo_cli(site, "plugins", "--json")
    assert result.returncode == 0, result.stderr
    record = {record["name"]: record for record in json.loads(result.stdout)}["hello"]
    assert (record["distribution"], record["error"]) == ("hello-gan", None)
    assert record["registered"] == {"losses": ["smooth-non-saturating"]}
    commands = [line.split("#")[0].strip() for lang, text in guide_blocks() if lang == "bash"
                for line in text.splitlines() if line.startswith(("ganzoo list", "ganzoo run vanilla"))]
    assert len(commands) == 2, commands
    for command in commands:  # run -> validate: every check, no training
        args = shlex.split(command)[1:]
        args = ["validate", *args[1:]] if args[0] == "run" else args
        result = ganzoo_cli(site, *args, cwd=tmp_path)
        assert result.returncode == 0, (command, result.stderr)
    listed = json.loads(ganzoo_cli(site, "list", "losses", "--json").stdout)
    assert ("smooth-non-saturating", "hello") in {(row["name"], row["plugin"]) for row in listed}


def test_guide_test_file_passes_against_the_installed_plugin(guide_package, tmp_path):
    site, source = guide_package
    result = run_pytest(site, source / "tests", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_guide_register_keywords_match_each_kind():
    (signature,) = [text for lang, text in guide_blocks() if text.startswith("register(")]
    (function,) = ast.parse(f"def {signature.strip().replace('**keywords_of_the_kind', '**kw')}: pass").body
    assert [arg.arg for arg in function.args.kwonlyargs] == ["description", "options", "override"]
    table = dict(re.findall(r"^\| (\w+) +\| (`[^|]*?) +\|$", guide_text(), flags=re.M))
    for kind, allowed in KEYWORDS.items():
        documented = set(re.findall(r"`(\w+)`", table[kind])) | {"options", "override"}
        assert documented == set(allowed), kind
    fields = {field.name for field in attrs.fields(Component)} - {"kind", "name", "factory", "description", "plugin"}
    assert set().union(*KEYWORDS.values()) == fields  # every Component field is some kind's keyword


def test_guide_hooks_and_switches_match_the_code():
    text = guide_text()
    documented = re.findall(r"^\| `(register_\w+)`", text, flags=re.M)
    assert documented == list(HOOKS.values())
    for variable in (plugin_loading.STRICT_ENV, plugin_loading.ALLOW_ENV, plugin_loading.BLOCK_ENV):
        assert f"`{variable}=" in text


def test_guide_clash_message_is_the_registry_message(ganzoo_plugin):
    (line,) = [line for lang, text in guide_blocks() for line in text.splitlines()
               if line.startswith("ganzoo: error: loss 'hinge' is registered by two plugins")]

    @ganzoo.hookimpl
    def register_losses(register):
        register("hinge", "nowhere:Never", description="a second hinge")

    ganzoo_plugin(SimpleNamespace(register_losses=register_losses), name="mine")
    with pytest.raises(DuplicateComponentError) as caught:
        ganzoo.registries()
    documented = line.removeprefix("ganzoo: error: ").replace("ganzoo 0.1.0", f"ganzoo {ganzoo.__version__}")
    assert str(caught.value) == documented.replace("(ganzoo-mine 0.2.0)", "((in-process) 0)")


def test_guide_other_code_blocks_run():
    blocks = [text for lang, text in guide_blocks() if lang == "python" and not text.startswith("# ")]
    namespaces = []
    for i, text in enumerate(blocks):  # each in a module of its own: attrs resolves annotations in it
        module = types.ModuleType(f"guide_block_{i}")
        sys.modules[module.__name__] = module
        try:
            # dont_inherit: run the block as written, without this file's `from __future__ import annotations`
            exec(compile(text, str(GUIDE), "exec", dont_inherit=True), module.__dict__)  # noqa: S102
        finally:
            del sys.modules[module.__name__]
        namespaces.append(module.__dict__)
    options_class = next(ns["MyGeneratorOptions"] for ns in namespaces if "MyGeneratorOptions" in ns)
    override = next(ns["register_losses"] for ns, text in zip(namespaces, blocks) if "override=True" in text)
    assert parse_options(options_class, {"activation": "leaky-relu"}).latent_dim == 64
    calls = []
    override(lambda name, factory, **support: calls.append((name, support)))
    assert calls == [("hinge", {"description": "Hinge loss, fused kernel", "override": True})]
    for lang, text in guide_blocks():
        if lang == "toml":
            tomllib.loads(text)
