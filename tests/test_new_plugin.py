"""``ganzoo new-plugin``: the package it writes installs with pip and passes its own test as generated."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from ganzoo import __version__
from ganzoo.cli.main import main
from ganzoo.scaffold import FILES, ganzoo_requirement, plugin_names, render, reserved

NAME = "ganzoo-tiny-gan"
EXPECTED_FILES = {
    "pyproject.toml", "README.md", "ganzoo_tiny_gan/__init__.py", "ganzoo_tiny_gan/options.py",
    "ganzoo_tiny_gan/models.py", "ganzoo_tiny_gan/regularizers.py", "tests/test_ganzoo_tiny_gan.py",
}


def clean_env(site: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GANZOO_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PIP_ROOT_USER_ACTION"] = "ignore"
    return env


def files_under(folder: Path) -> set[str]:
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, Path]:
    """The package written by ``ganzoo new-plugin`` and the folder pip installed it into."""
    work = tmp_path_factory.mktemp("new-plugin")
    package, site = work / "tiny", work / "site"
    assert main(["new-plugin", NAME, "--dir", str(package)]) == 0
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--no-build-isolation",
         "--disable-pip-version-check", "--quiet", "--target", str(site), str(package)],
        capture_output=True, text=True, timeout=300, env=clean_env(site),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return package, site


def test_generated_package_installs_and_passes_its_own_test(generated, tmp_path):
    package, site = generated
    (info,) = site.glob("ganzoo_tiny_gan-*.dist-info")
    assert "[ganzoo]\ntiny-gan = ganzoo_tiny_gan" in (info / "entry_points.txt").read_text()
    result = subprocess.run(  # from elsewhere, so the installed copy is the one imported
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(package / "tests")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, env=clean_env(site),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_generated_plugin_is_listed_and_the_commands_are_torch_free(generated, tmp_path):
    _, site = generated
    code = (
        "import contextlib, io, sys; from ganzoo.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()): assert main(['new-plugin', 'acme-x', '--dir', 'x']) == 0\n"
        "assert main(['list', 'generators', '--json']) == 0\n"
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            cwd=tmp_path, env=clean_env(site))
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["tiny-gan"]["plugin"] == "tiny-gan"
    assert {option["name"] for option in rows["tiny-gan"]["options"]} == {"latent_dim", "hidden_dim"}


def test_generated_files_and_pyproject(generated):
    package, _ = generated
    assert files_under(package) >= EXPECTED_FILES  # pip may add build/ and *.egg-info
    project = tomllib.loads((package / "pyproject.toml").read_text())
    assert project["project"]["name"] == NAME
    assert project["project"]["entry-points"]["ganzoo"] == {"tiny-gan": "ganzoo_tiny_gan"}
    assert ganzoo_requirement() in project["project"]["dependencies"]
    for path in package.rglob("*.py"):
        compile(path.read_text(), str(path), "exec")


def test_output_names_the_files_and_next_steps(tmp_path, capsys):
    assert main(["new-plugin", "my_gan", "--dir", str(tmp_path / "p")]) == 0
    out = capsys.readouterr().out
    assert "created plugin 'my-gan' (distribution my-gan, module my_gan)" in out
    assert "my_gan/models.py" in out and "pip install -e" in out


def test_default_folder_is_the_name_and_an_empty_folder_is_fine(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["new-plugin", "acme-gan"]) == 0
    expected = {path.replace("ganzoo_tiny_gan", "acme_gan") for path in EXPECTED_FILES}
    assert files_under(tmp_path / "acme-gan") == expected
    (tmp_path / "empty").mkdir()
    assert main(["new-plugin", "acme-gan2", "--dir", "empty"]) == 0
    assert (tmp_path / "empty" / "pyproject.toml").is_file()


@pytest.mark.parametrize("name", ["9lives", "a b", "bad--name", "trailing-", "", "x" * 65, "json", "class",
                                  "ganzoo", "ganzoo_mlp", "tests", "pytest", "mlp", "ganzoo-dcgan", "ganzoo-losses"])
def test_bad_name_is_a_one_line_error(name, tmp_path, capsys):
    assert main(["new-plugin", name, "--dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ganzoo: error: bad plugin name") and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists()


def test_non_empty_target_is_a_one_line_error_and_left_alone(tmp_path, capsys):
    target = tmp_path / "taken"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    assert main(["new-plugin", NAME, "--dir", str(target)]) == 2
    err = capsys.readouterr().err
    assert "exists and is not empty" in err and err.count("\n") == 1
    assert files_under(target) == {"notes.txt"}
    (tmp_path / "file").write_text("")
    assert main(["new-plugin", NAME, "--dir", str(tmp_path / "file")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_reserved_names_come_from_the_entry_points():
    declared = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    modules = {value.split(":")[0].split(".")[0] for value in declared["project"]["entry-points"]["ganzoo"].values()}
    assert modules and modules | {"ganzoo", "tests"} <= reserved()


def test_names_derived_from_the_distribution_name():
    names = plugin_names("Ganzoo-Tiny_GAN")
    assert (names.distribution, names.module, names.short, names.camel) == (
        "ganzoo-tiny-gan", "ganzoo_tiny_gan", "tiny-gan", "TinyGan")
    assert plugin_names("ganzoo-2d").camel == "Plugin2d"


def test_requirement_bounds_the_release_series():
    assert ganzoo_requirement("0.1.0") == "pyganzoo>=0.1,<0.2"
    assert ganzoo_requirement("0.12.3.dev1") == "pyganzoo>=0.12,<0.13"
    assert ganzoo_requirement("1.4.2") == "pyganzoo>=1.4,<2"
    assert ganzoo_requirement() == ganzoo_requirement(__version__)


def test_templates_ship_inside_the_package():
    files = render(plugin_names("acme"))
    assert set(files) == {path.replace("ganzoo_tiny_gan", "acme") for path in EXPECTED_FILES}
    assert len(FILES) == len(files)
    assert all("${" not in text for text in files.values())
