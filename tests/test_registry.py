"""Registries filled by a throwaway in-process plugin: listing, look-up, duplicates, overrides, failures."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

import ganzoo
from ganzoo.cli.main import main
from ganzoo.components import DataInfo
from ganzoo.errors import DuplicateComponentError, UnknownComponentError
from ganzoo.registry import registries
from ganzoo.testing import registered_plugin

KIND_NAMES = {
    "generator": "toy-gen",
    "discriminator": "toy-disc",
    "loss": "toy-loss",
    "dataset": "toy-data",
    "metric": "toy-metric",
}


@ganzoo.options_class
class ToyOptions:
    width: int = ganzoo.option(8, min=1, help="hidden width")


def _factory(*args, **kwargs):
    return SimpleNamespace(args=args, kwargs=kwargs)


class ToyPlugin:
    """One component of each kind, with tiny factories (a class instance is a plugin too)."""

    @ganzoo.hookimpl
    def register_generators(self, register):
        register("toy-gen", _factory, description="toy generator", options=ToyOptions, conditional=True)

    @ganzoo.hookimpl
    def register_discriminators(self, register):
        register("toy-disc", _factory, description="toy discriminator", options=ToyOptions, data_kinds=["flat"])

    @ganzoo.hookimpl
    def register_losses(self, register):
        register("toy-loss", _factory, description="toy loss")

    @ganzoo.hookimpl
    def register_datasets(self, register):
        register("toy-data", _factory, description="toy points", info=lambda options: DataInfo(shape=(2,)))

    @ganzoo.hookimpl
    def register_metrics(self, register):
        register("toy-metric", _factory, description="toy metric")


def generator_plugin(name: str, *, override: bool = False) -> SimpleNamespace:
    """A plugin registering one generator called ``name``."""

    @ganzoo.hookimpl
    def register_generators(register):
        register(name, _factory, description=f"generator {name}", override=override)

    return SimpleNamespace(register_generators=register_generators)


def failing_plugin() -> SimpleNamespace:
    @ganzoo.hookimpl
    def register_generators(register):
        raise RuntimeError("boom in the hook")

    return SimpleNamespace(register_generators=register_generators)


def _plugin_record(name: str):
    return next(record for record in registries().plugins if record.name == name)


def test_throwaway_plugin_fills_each_registry(ganzoo_plugin):
    ganzoo_plugin(ToyPlugin(), name="toy")
    found = registries()
    for kind, name in KIND_NAMES.items():
        component = found.component(kind, name)
        assert (component.kind, component.plugin) == (kind, "toy")
    assert found.component("generator", "toy-gen").parse({"width": 3}) == ToyOptions(width=3)
    assert found.component("dataset", "toy-data").data_info(None) == DataInfo(shape=(2,))
    assert found.component("discriminator", "toy-disc").data_kinds == ("flat",)


def test_list_json_shows_each_component(ganzoo_plugin, capsys):
    ganzoo_plugin(ToyPlugin(), name="toy")
    assert main(["list", "--json"]) == 0
    listed = {(row["kind"], row["name"]): row for row in json.loads(capsys.readouterr().out)}
    for kind, name in KIND_NAMES.items():
        assert listed[kind, name]["plugin"] == "toy"
    options = listed["generator", "toy-gen"]["options"]
    assert options == [{"name": "width", "type": "an integer", "default": 8, "required": False, "range": ">= 1",
                        "help": "hidden width"}]
    assert listed["generator", "toy-gen"]["conditional"] is True


def test_list_json_one_kind(ganzoo_plugin, capsys):
    ganzoo_plugin(ToyPlugin(), name="toy")
    assert main(["list", "losses", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {row["kind"] for row in rows} == {"loss"}
    assert "toy-loss" in {row["name"] for row in rows}


def test_list_table_shows_each_component(ganzoo_plugin, capsys, monkeypatch):
    ganzoo_plugin(ToyPlugin(), name="toy")
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "generators:" in out
    for name in KIND_NAMES.values():
        line = next(line for line in out.splitlines() if line.startswith(f"  {name}  "))
        assert "(plugin toy" in line


def test_plugins_json_shows_in_process_plugin(ganzoo_plugin, capsys):
    ganzoo_plugin(ToyPlugin(), name="toy")
    assert main(["plugins", "--json"]) == 0
    record = next(r for r in json.loads(capsys.readouterr().out) if r["name"] == "toy")
    assert record["source"] == "in-process"
    assert record["error"] is None
    assert record["registered"] == {
        "generators": ["toy-gen"],
        "discriminators": ["toy-disc"],
        "losses": ["toy-loss"],
        "datasets": ["toy-data"],
        "metrics": ["toy-metric"],
    }


def test_unknown_name_suggests_closest(ganzoo_plugin):
    ganzoo_plugin(ToyPlugin(), name="toy")
    with pytest.raises(UnknownComponentError) as info:
        registries().component("generator", "toy-gne")
    message = str(info.value)
    assert "unknown generator 'toy-gne'" in message
    assert "did you mean 'toy-gen'" in message


def test_unknown_name_without_close_match_lists_available(ganzoo_plugin):
    ganzoo_plugin(ToyPlugin(), name="toy")
    message = registries()["metric"].unknown_message("zzzzzz")
    assert "did you mean" not in message
    assert "toy-metric" in message


def test_duplicate_name_names_both_plugins(ganzoo_plugin):
    ganzoo_plugin(generator_plugin("twin"), name="first")
    ganzoo_plugin(generator_plugin("twin"), name="second")
    with pytest.raises(DuplicateComponentError) as info:
        registries()
    message = str(info.value)
    assert "generator 'twin'" in message
    assert "'first'" in message and "'second'" in message


def test_list_with_duplicate_exits_2_with_one_line(ganzoo_plugin, capsys):
    ganzoo_plugin(generator_plugin("twin"), name="first")
    ganzoo_plugin(generator_plugin("twin"), name="second")
    assert main(["list"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert "'first'" in lines[0] and "'second'" in lines[0]
    assert "Traceback" not in captured.err + captured.out


@pytest.mark.parametrize("override_first", [False, True], ids=["override-second", "override-first"])
def test_override_replaces_on_purpose(ganzoo_plugin, override_first):
    plain, replacing = generator_plugin("twin"), generator_plugin("twin", override=True)
    first, second = (replacing, plain) if override_first else (plain, replacing)
    ganzoo_plugin(first, name="first")
    ganzoo_plugin(second, name="second")
    component = registries().component("generator", "twin")
    assert component.plugin == ("first" if override_first else "second")
    assert component.override


def test_two_overrides_of_one_name_are_a_duplicate(ganzoo_plugin):
    ganzoo_plugin(generator_plugin("twin", override=True), name="first")
    ganzoo_plugin(generator_plugin("twin", override=True), name="second")
    with pytest.raises(DuplicateComponentError):
        registries()


def test_failing_hook_is_recorded_and_others_register(ganzoo_plugin, capsys):
    ganzoo_plugin(failing_plugin(), name="broken")
    ganzoo_plugin(ToyPlugin(), name="toy")
    found = registries()
    assert "RuntimeError: boom in the hook" in _plugin_record("broken").error
    assert [record.name for record in found.failures()] == ["broken"]
    assert "toy-gen" in found["generator"]
    assert main(["list", "--json"]) == 0
    assert "1 plugin(s) failed to load: broken" in capsys.readouterr().err


def test_failing_hook_is_an_error_when_strict(ganzoo_plugin, monkeypatch, capsys):
    monkeypatch.setenv("GANZOO_STRICT_PLUGINS", "1")
    ganzoo_plugin(failing_plugin(), name="broken")
    assert main(["list"]) == 2
    err = capsys.readouterr().err
    assert "plugin 'broken'" in err and "boom in the hook" in err


def test_registered_plugin_unregisters_on_error():
    with pytest.raises(RuntimeError, match="inside"):
        with registered_plugin(ToyPlugin(), name="toy"):
            assert "toy-gen" in registries()["generator"]
            raise RuntimeError("inside")
    assert "toy-gen" not in registries()["generator"]
    assert "toy" not in {record.name for record in registries().plugins}


def test_registered_plugin_refuses_a_taken_name_and_keeps_the_holder():
    with registered_plugin(ToyPlugin(), name="toy"):
        with pytest.raises(ValueError):
            with registered_plugin(generator_plugin("other"), name="toy"):
                pass  # pragma: no cover
        assert "toy-gen" in registries()["generator"]


def test_fixture_returns_the_plugin_under_the_default_name(ganzoo_plugin):
    plugin = ToyPlugin()
    assert ganzoo_plugin(plugin) is plugin
    assert registries().component("loss", "toy-loss").plugin == "test-plugin"


PLUGIN_AUTHOR_TESTS = '''
import ganzoo
from types import SimpleNamespace

@ganzoo.hookimpl
def register_losses(register):
    register("author-loss", "nowhere:Loss", description="a plugin author's loss")

def test_fixture_registers(ganzoo_plugin):
    ganzoo_plugin(SimpleNamespace(register_losses=register_losses), name="author")
    assert ganzoo.registries().component("loss", "author-loss").plugin == "author"

def test_fixture_cleaned_up_after_the_previous_test():
    assert "author-loss" not in ganzoo.registries()["loss"]
'''


def test_fixture_reaches_plugin_authors_through_the_pytest11_entry_point(pytester):
    pytester.makepyfile(test_author=PLUGIN_AUTHOR_TESTS)
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
