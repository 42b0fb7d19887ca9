"""The command line: torch stays out of the light commands; version, help and exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
import tomli_w

from ganzoo import __version__
from ganzoo.cli.main import main

VALID_RECIPE = {
    "data": {"name": "ring8"},
    "generator": {"name": "mlp"},
    "discriminator": {"name": "mlp"},
    "loss": {"name": "non-saturating"},
}

# Runs a command in a fresh interpreter, then fails if any torch module was imported along the way.
TORCH_FREE = textwrap.dedent(
    """
    import sys
    from ganzoo.cli.main import main
    try:
        code = main(sys.argv[1:])
    except SystemExit as exit:
        code = exit.code
    assert code == 0, f"exit code {code}"
    loaded = sorted(name for name in sys.modules if name == "torch" or name.startswith("torch."))
    assert not loaded, f"torch was imported: {loaded[:5]}"
    print("torch-free")
    """
)


def run_python(*args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GANZOO_")}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, timeout=60)


@pytest.mark.parametrize("command", [["--help"], ["list"], ["list", "--json"], ["plugins"], ["validate", "RECIPE"]],
                         ids=["help", "list", "list-json", "plugins", "validate"])
def test_light_commands_do_not_import_torch(tmp_path, command):
    recipe = tmp_path / "recipe.toml"
    recipe.write_text(tomli_w.dumps(VALID_RECIPE))
    argv = [str(recipe) if arg == "RECIPE" else arg for arg in command]
    result = run_python("-c", TORCH_FREE, *argv)
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("torch-free")


def test_importing_the_pytest_plugin_does_not_import_torch():
    code = "import sys, ganzoo.testing; assert 'torch' not in sys.modules, 'torch imported'"
    result = run_python("-c", code)
    assert result.returncode == 0, result.stderr


def test_version_command_prints_the_version(capsys):
    assert main(["version"]) == 0
    assert capsys.readouterr().out.startswith(f"ganzoo {__version__} (Python ")


def test_version_flag_prints_the_version(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["--version"])
    assert exit.value.code == 0
    assert capsys.readouterr().out.strip() == f"ganzoo {__version__}"


def test_no_command_prints_help(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: ganzoo")
    for command in ("validate", "list", "plugins", "version"):
        assert command in out


def test_unknown_command_exits_2(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["frobnicate"])
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'frobnicate'" in err
    assert "Traceback" not in err


def test_unknown_option_exits_2(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["list", "--colour"])
    assert exit.value.code == 2
    assert "unrecognized arguments: --colour" in capsys.readouterr().err


def test_module_entry_exits_with_main_return_code(tmp_path):
    result = run_python("-m", "ganzoo.cli.main", "validate", str(tmp_path / "missing.toml"))
    assert result.returncode == 2
    assert "no such recipe file" in result.stderr
