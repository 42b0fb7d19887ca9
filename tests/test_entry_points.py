"""Real entry points: installed-looking packages on a temporary path, found by the CLI in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

GOOD_PLUGIN = '''
import ganzoo

@ganzoo.hookimpl
def register_losses(register):
    register("toy-ep-loss", "toy_ep_plugin.impl:ToyLoss", description="a loss from a real entry point")
'''

BROKEN_PLUGIN = '''
raise ImportError("toy plugin cannot import its dependency")
'''


def _install(site: Path, *, module: str, dist: str, version: str, ep_name: str, source: str) -> None:
    """Write a package and its ``*.dist-info`` folder, as pip would, into ``site``."""
    (site / module).mkdir()
    (site / module / "__init__.py").write_text(textwrap.dedent(source))
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[ganzoo]\n{ep_name} = {module}\n")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("site")
    _install(site, module="toy_ep_plugin", dist="ganzoo-toy", version="1.2.3", ep_name="toy", source=GOOD_PLUGIN)
    _install(site, module="broken_ep_plugin", dist="ganzoo-broken", version="0.0.1", ep_name="broken",
             source=BROKEN_PLUGIN)
    return site


def ganzoo(site: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """Run ``python -m ganzoo.cli.main ARGS`` with ``site`` on the path and the given GANZOO_* variables."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith("GANZOO_")}
    path = os.pathsep.join(filter(None, [str(site), clean.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "ganzoo.cli.main", *args],
        env={**clean, "PYTHONPATH": path, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _plugins(result: subprocess.CompletedProcess) -> dict[str, dict]:
    assert result.returncode == 0, result.stderr
    return {record["name"]: record for record in json.loads(result.stdout)}


def test_plugins_shows_distribution_version_and_error(site):
    records = _plugins(ganzoo(site, "plugins", "--json"))
    toy, broken = records["toy"], records["broken"]
    assert (toy["distribution"], toy["version"], toy["module"]) == ("ganzoo-toy", "1.2.3", "toy_ep_plugin")
    assert toy["source"] == "entry point"
    assert toy["error"] is None
    assert toy["registered"] == {"losses": ["toy-ep-loss"]}
    assert (broken["distribution"], broken["version"]) == ("ganzoo-broken", "0.0.1")
    assert "ImportError: toy plugin cannot import its dependency" in broken["error"]


def test_list_shows_entry_point_component_despite_broken_plugin(site):
    result = ganzoo(site, "list", "--json")
    assert result.returncode == 0, result.stderr
    rows = {(row["kind"], row["name"]): row for row in json.loads(result.stdout)}
    assert rows["loss", "toy-ep-loss"]["plugin"] == "toy"
    assert "failed to load: broken" in result.stderr
    assert "Traceback" not in result.stderr


def test_strict_mode_exits_2_naming_the_broken_plugin(site):
    result = ganzoo(site, "list", GANZOO_STRICT_PLUGINS="1")
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "plugin 'broken' (ganzoo-broken 0.0.1) failed to load" in lines[0]
    assert "GANZOO_DISABLE_PLUGINS=broken" in lines[0]


def test_allow_list_loads_only_the_named_plugin(site):
    records = _plugins(ganzoo(site, "plugins", "--json", GANZOO_PLUGINS="toy"))
    assert list(records) == ["toy"]


def test_allow_list_matches_distribution_names(site):
    records = _plugins(ganzoo(site, "plugins", "--json", GANZOO_PLUGINS="ganzoo-broken, ganzoo-toy"))
    assert sorted(records) == ["broken", "toy"]


def test_block_list_keeps_the_broken_plugin_out_even_when_strict(site):
    result = ganzoo(site, "plugins", "--json", GANZOO_DISABLE_PLUGINS="broken", GANZOO_STRICT_PLUGINS="1")
    records = _plugins(result)
    assert "broken" not in records
    assert "toy" in records
