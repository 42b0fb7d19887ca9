"""ganzoo's name on the package index: ``ganzoo`` there is an unrelated 0.0.1 project, so the distribution is
``pyganzoo`` and every requirement a plugin is told to declare must name it and admit the installed version."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

from ganzoo.__about__ import DISTRIBUTION, __version__
from ganzoo.scaffold import ganzoo_requirement, plugin_names, render

ROOT = Path(__file__).resolve().parent.parent


def _admits_installed(text: str) -> None:
    requirement = Requirement(text)
    assert requirement.name == DISTRIBUTION, text
    assert requirement.specifier.contains(metadata.version(DISTRIBUTION)), (text, metadata.version(DISTRIBUTION))


def test_installed_distribution_is_pyganzoo_and_carries_the_version() -> None:
    assert DISTRIBUTION == "pyganzoo"
    assert metadata.version(DISTRIBUTION) == __version__
    entry_points = metadata.distribution(DISTRIBUTION).entry_points
    assert {ep.name for ep in entry_points if ep.group == "console_scripts"} == {"ganzoo"}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == DISTRIBUTION


def test_example_plugin_requires_the_installed_distribution() -> None:
    project = tomllib.loads((ROOT / "examples/ganzoo-plugin-example/pyproject.toml").read_text(encoding="utf-8"))
    ours = [dep for dep in project["project"]["dependencies"] if "ganzoo" in dep]
    assert len(ours) == 1
    _admits_installed(ours[0])


def test_scaffold_requires_the_installed_distribution() -> None:
    _admits_installed(ganzoo_requirement())
    files = render(plugin_names("ganzoo-distname-check"))
    project = tomllib.loads(files["pyproject.toml"])["project"]
    _admits_installed(next(dep for dep in project["dependencies"] if "ganzoo" in dep))


def test_guide_declares_the_distribution_name() -> None:
    guide = (ROOT / "docs/plugins.md").read_text(encoding="utf-8")
    declared = re.findall(r'dependencies = \["([^"]+)"', guide)
    assert declared, "the guide shows no dependencies line"
    for text in declared:
        _admits_installed(text)
