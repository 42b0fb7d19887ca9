"""Plugin authors' mistakes, each reported in one line naming the component and the plugin, never a traceback.

Throwaway plugins: in-process through the ``ganzoo_plugin`` fixture, and as real installed-looking packages
on a temporary path (a ``*.dist-info`` with an entry point) driven through the CLI in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
import tomli_w

import ganzoo
from ganzoo.cli.main import main
from ganzoo.errors import ComponentError, DuplicateComponentError, GanzooError
from ganzoo.recipe.load import recipe_from_dict
from ganzoo.registry import registries

RING = {
    "data": {"name": "ring8"},
    "generator": {"name": "mlp", "hidden_dims": [8]},
    "discriminator": {"name": "mlp", "hidden_dims": [8]},
    "loss": {"name": "non-saturating"},
    "train": {"steps": 1, "batch_size": 8, "device": "cpu"},
}


def _install(site: Path, *, module: str, ep_name: str, source: str, dist: str | None = None) -> None:
    """A package and its ``*.dist-info`` (with a ``ganzoo`` entry point), as pip would lay them out."""
    dist = dist or f"ganzoo-{ep_name}"
    (site / module).mkdir()
    (site / module / "__init__.py").write_text(textwrap.dedent(source))
    info = site / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[ganzoo]\n{ep_name} = {module}\n")


MISSING_FACTORY = '''
import ganzoo

@ganzoo.hookimpl
def register_generators(register):
    register("ghost", "ghost_plugin.models:DoesNotExist", description="a generator whose class is missing",
             data_kinds=("flat",))

@ganzoo.hookimpl
def register_discriminators(register):
    register("ghost", "ghost_plugin.nowhere:Critic", description="a critic whose module is missing")
'''

BAD_DEFAULT = '''
import ganzoo

@ganzoo.options_class
class Options:
    width: int = ganzoo.option(0, min=1, help="a default that breaks its own rule")

@ganzoo.hookimpl
def register_generators(register):
    register("zero-width", "json:dumps", description="never built", options=Options)
'''

WRONG_TYPE_DEFAULT = '''
import ganzoo

@ganzoo.options_class
class Options:
    width: int = ganzoo.option("wide", help="a string default on an int")

@ganzoo.hookimpl
def register_generators(register):
    register("wide", "json:dumps", description="never built", options=Options)
'''

NO_INFO = '''
import ganzoo

@ganzoo.hookimpl
def register_datasets(register):
    register("no-info", "json:dumps", description="a dataset that does not say its shape")
'''

CLASH = '''
import ganzoo

@ganzoo.hookimpl
def register_losses(register):
    register("hinge", "json:dumps", description="a second hinge")
'''


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("site")
    _install(site, module="ghost_plugin", ep_name="ghost", source=MISSING_FACTORY)
    (site / "ghost_plugin" / "models.py").write_text("X = 1\n")
    _install(site, module="zero_plugin", ep_name="zero", source=BAD_DEFAULT)
    _install(site, module="wide_plugin", ep_name="wide", source=WRONG_TYPE_DEFAULT)
    _install(site, module="noinfo_plugin", ep_name="noinfo", source=NO_INFO)
    return site


@pytest.fixture(scope="module")
def plugin_records(site) -> dict[str, dict]:
    """``ganzoo plugins --json`` with the throwaway packages installed, run once for the module."""
    result = ganzoo_cli(site, "plugins", "--json")
    assert result.returncode == 0, result.stderr
    return {record["name"]: record for record in json.loads(result.stdout)}


def ganzoo_cli(site: Path, *args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("GANZOO_")}
    path = os.pathsep.join(filter(None, [str(site), clean.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "ganzoo.cli.main", *args], env={**clean, "PYTHONPATH": path, **env},
                          capture_output=True, text=True, timeout=120, cwd=cwd)


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1, stderr
    assert lines[0].startswith("ganzoo: error: "), stderr
    return lines[0]


# ---------------------------------------------------------------- a factory string naming nothing
def test_missing_factory_attribute_is_one_line_at_run_naming_component_plugin_and_name(site, tmp_path):
    recipe = tmp_path / "ghost.toml"
    recipe.write_text(tomli_w.dumps({**RING, "generator": {"name": "ghost"}}))
    assert ganzoo_cli(site, "validate", str(recipe)).returncode == 0  # validation imports no factory
    result = ganzoo_cli(site, "run", str(recipe), "--out", str(tmp_path / "out"), "--quiet")
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert "generator 'ghost' of plugin 'ghost'" in line
    assert "'ghost_plugin.models' has no attribute 'DoesNotExist'" in line
    assert not (tmp_path / "out").exists()


def test_plugins_check_imports_every_factory_and_reports_failures(site):
    result = ganzoo_cli(site, "plugins", "--check", "--json")
    assert result.returncode == 2
    records = {record["name"]: record for record in json.loads(result.stdout)}
    errors = records["ghost"]["factory_errors"]
    assert any("has no attribute 'DoesNotExist'" in e for e in errors)
    assert any("module 'ghost_plugin.nowhere' cannot be imported" in e for e in errors)
    assert records["mlp"]["factory_errors"] == [] and records["dcgan"]["factory_errors"] == []
    table = ganzoo_cli(site, "plugins", "--check", GANZOO_DISABLE_PLUGINS="zero,wide,noinfo")
    assert table.returncode == 2
    assert "Traceback" not in table.stderr
    lines = [line for line in table.stderr.splitlines() if line.strip()]
    assert len(lines) == 2 and all(line.startswith("ganzoo: error: ") for line in lines), table.stderr


def test_plugins_check_passes_with_the_built_ins_alone():
    assert main(["plugins", "--check"]) == 0


def test_build_generator_raises_a_ganzoo_error_not_attribute_error(ganzoo_plugin):
    @ganzoo.hookimpl
    def register_generators(register):
        register("ghost-gen", "json:DoesNotExist", description="missing")

    ganzoo_plugin(SimpleNamespace(register_generators=register_generators), name="ghosts")
    with pytest.raises(ComponentError) as caught:
        ganzoo.build_generator("ghost-gen", shape=(2,))
    assert isinstance(caught.value, GanzooError) and not isinstance(caught.value, AttributeError)
    assert str(caught.value) == ("generator 'ghost-gen' of plugin 'ghosts': factory 'json:DoesNotExist': "
                                 "'json' has no attribute 'DoesNotExist'")


def test_factory_that_is_not_callable_is_one_line(ganzoo_plugin):
    @ganzoo.hookimpl
    def register_losses(register):
        register("not-callable", "json:__doc__", description="a string, not a factory")

    ganzoo_plugin(SimpleNamespace(register_losses=register_losses), name="nc")
    with pytest.raises(ComponentError, match="is a str, not callable"):
        ganzoo.build_loss("not-callable")


class TakesNothing:
    """A regulariser class written without ``__init__(options)``: the factory cannot take its options."""

    def penalty(self, batch):
        return batch.real_out["logits"].sum() * 0


def test_factory_that_cannot_take_its_options_is_one_line_at_run(ganzoo_plugin, tmp_path, capsys):
    @ganzoo.hookimpl
    def register_regularizers(register):
        register("takes-nothing", TakesNothing, description="no __init__(options)")

    ganzoo_plugin(SimpleNamespace(register_regularizers=register_regularizers), name="bare")
    with pytest.raises(ComponentError, match="its factory cannot be called as factory"):
        ganzoo.build_regularizer("takes-nothing")
    recipe = tmp_path / "bare.toml"
    recipe.write_text(tomli_w.dumps({**RING, "regularizer": [{"name": "takes-nothing"}]}))
    assert main(["run", str(recipe), "--quiet", "--out", str(tmp_path / "runs")]) == 2
    line = one_line(capsys.readouterr().err)
    assert ("regularizer 'takes-nothing' of plugin 'bare': its factory cannot be called as factory(options): "
            "too many positional arguments") in line


class MeasuresNothing:
    """A metric class without ``__init__(options)``."""

    def compute(self, context):
        return {}


def test_a_metric_factory_that_cannot_take_its_options_is_one_line(ganzoo_plugin):
    from ganzoo.evaluation.runner import build_metric

    @ganzoo.hookimpl
    def register_metrics(register):
        register("measures-nothing", MeasuresNothing, description="no __init__(options)")

    ganzoo_plugin(SimpleNamespace(register_metrics=register_metrics), name="blind")
    with pytest.raises(ComponentError, match="metric 'measures-nothing' of plugin 'blind': its factory cannot be "
                                             "called as factory\\(options\\)"):
        build_metric("measures-nothing")


def test_type_error_inside_a_factory_is_not_mistaken_for_a_bad_signature(ganzoo_plugin):
    def broken(options, *, shape, num_classes=0):
        return len(None)  # the plugin's own bug: its traceback is what its author needs

    @ganzoo.hookimpl
    def register_generators(register):
        register("broken-inside", broken, description="raises inside")

    ganzoo_plugin(SimpleNamespace(register_generators=register_generators), name="inside")
    with pytest.raises(TypeError, match="has no len"):
        ganzoo.build_generator("broken-inside", shape=(2,))


# ---------------------------------------------------------------- registration checked when loading
@pytest.mark.parametrize("plugin, says", [
    ("zero", "width (default): got 0; must be >= 1"),
    ("wide", "width (default): got 'wide'; expected an integer"),
    ("noinfo", "dataset 'no-info' is registered without info="),
])
def test_bad_registration_marks_the_plugin_failed_naming_the_field(plugin_records, plugin, says):
    records = plugin_records
    assert says in records[plugin]["error"]
    assert records[plugin]["registered"] == {}
    assert records["mlp"]["error"] is None  # the others load


def test_bad_default_in_strict_mode_is_one_line_exit_2(site):
    result = ganzoo_cli(site, "list", GANZOO_STRICT_PLUGINS="1", GANZOO_DISABLE_PLUGINS="ghost,wide,noinfo")
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert "'zero'" in line and "width (default)" in line


def test_dataset_without_info_rejected_in_process(ganzoo_plugin):
    @ganzoo.hookimpl
    def register_datasets(register):
        register("shapeless", "json:dumps", description="no info")

    ganzoo_plugin(SimpleNamespace(register_datasets=register_datasets), name="shapeless")
    found = registries()
    assert "shapeless" not in found["dataset"]
    (record,) = [r for r in found.plugins if r.name == "shapeless"]
    assert "registered without info=" in record.error


def test_info_that_raises_is_one_line_naming_the_plugin(ganzoo_plugin, tmp_path, capsys):
    @ganzoo.hookimpl
    def register_datasets(register):
        register("bad-info", "json:dumps", description="info raises", info=lambda options: None + 1)

    ganzoo_plugin(SimpleNamespace(register_datasets=register_datasets), name="badinfo")
    recipe = tmp_path / "bad-info.toml"
    recipe.write_text(tomli_w.dumps({**RING, "data": {"name": "bad-info"}}))
    assert main(["validate", str(recipe)]) == 2
    line = one_line(capsys.readouterr().err)
    assert "dataset 'bad-info' of plugin 'badinfo': its info raised TypeError" in line


# ---------------------------------------------------------------- cross-field rules from a plugin
def test_check_recipe_lets_a_component_hold_its_options_against_train(ganzoo_plugin):
    @ganzoo.options_class
    class Options:
        group: int = ganzoo.option(4, min=1)

    def needs_even_groups(options, context):
        if context.train.batch_size % options.group:
            raise ValueError(f"group = {options.group} must divide train.batch_size = {context.train.batch_size}")

    @ganzoo.hookimpl
    def register_discriminators(register):
        register("grouped", "json:dumps", description="judges groups", options=Options,
                 check_recipe=needs_even_groups)

    ganzoo_plugin(SimpleNamespace(register_discriminators=register_discriminators), name="grouped")
    raw = {**RING, "discriminator": {"name": "grouped", "group": 3}}
    with pytest.raises(GanzooError, match=r"^r\.toml: discriminator: group = 3 must divide train.batch_size = 8$"):
        recipe_from_dict(raw, source="r.toml")
    recipe_from_dict({**raw, "train": {"batch_size": 9}}, source="r.toml")


# ---------------------------------------------------------------- a clash with a built-in
def test_clash_with_a_built_in_suggests_blocking_the_newcomer(site, tmp_path):
    clash = tmp_path / "clash-site"
    clash.mkdir()
    _install(clash, module="clash_plugin", ep_name="aaa-clash", source=CLASH)  # sorts before 'losses'
    result = ganzoo_cli(clash, "list")
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert "loss 'hinge' is registered by two plugins" in line
    assert "GANZOO_DISABLE_PLUGINS=aaa-clash" in line and "GANZOO_DISABLE_PLUGINS=losses" not in line
    assert "'aaa-clash' register it with override=True" in line


def test_clash_in_process_names_the_newcomer(ganzoo_plugin):
    @ganzoo.hookimpl
    def register_losses(register):
        register("hinge", "json:dumps", description="a second hinge")

    ganzoo_plugin(SimpleNamespace(register_losses=register_losses), name="mine")
    with pytest.raises(DuplicateComponentError) as caught:
        registries()
    assert "GANZOO_DISABLE_PLUGINS=mine" in str(caught.value)
