"""``ganzoo list`` readable at 80 columns and through a pipe (never a word a line), ``ganzoo show KIND NAME``
with one component's options as a table (through a pipe, one whole line per option); neither imports torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ganzoo.cli.main import main
from ganzoo.options import describe_options
from ganzoo.registry import registries


def _ganzoo(*args: str, columns: str | None) -> str:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GANZOO_") and key != "COLUMNS"}
    if columns is not None:
        env["COLUMNS"] = columns
    code = "import sys; from ganzoo.cli.main import main; code = main(sys.argv[1:]); " \
           "assert 'torch' not in sys.modules, 'torch imported'; sys.exit(code)"
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                            timeout=60)  # stdout is a pipe, as in `ganzoo list | less`
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("columns", [None, "80", "30"], ids=["pipe", "80-columns", "narrow"])
def test_list_never_leaves_a_word_a_line(columns):
    out = _ganzoo("list", columns=columns)
    lines = out.splitlines()
    descriptions = [line for line in lines if line.startswith("      ")]
    assert descriptions
    lonely = [line for line in descriptions if len(line.split()) == 1]
    assert not lonely, lonely
    assert max(map(len, lines)) <= (80 if columns == "80" else 120)
    found = registries()
    for kind, plural in (("generator", "generators"), ("discriminator", "discriminators"), ("loss", "losses"),
                         ("dataset", "datasets"), ("metric", "metrics")):
        section = lines.index(f"{plural}:")
        for component in found[kind]:
            head = next(i for i, line in enumerate(lines) if i > section
                        and line.startswith(f"  {component.name}  (plugin "))
            wrapped = []
            for line in lines[head + 1:]:
                if not line.startswith("      "):
                    break
                wrapped.append(line.strip())
            assert " ".join(wrapped) == " ".join(component.description.split())


def test_show_lists_every_option_with_type_default_range_and_help():
    out = _ganzoo("show", "dataset", "image-folder", columns=None)
    assert out.startswith("dataset image-folder (plugin datasets)")
    for header in ("option", "type", "default", "range", "help"):
        assert header in out
    rows = {line.split("│")[1].strip(): [cell.strip() for cell in line.split("│")[2:6]]
            for line in out.splitlines() if line.startswith("│") and line.split("│")[1].strip()}
    assert rows["root"][:3] == ["string", "(required)", ""]
    assert rows["image_size"][1:3] == ["64", "4 to 1024"]
    assert rows["channels"][:2] == ["one of 1, 3", "3"]
    # through a pipe every row is one whole line (rich cropped the table at 80 columns): grep finds an option
    # with its whole help
    options = describe_options(registries().component("dataset", "image-folder").options)
    assert {name: cells[3] for name, cells in rows.items()} == {o["name"]: o["help"] for o in options}
    assert 'In a recipe: [data] name = "image-folder"' in out


def test_show_json_and_plural_kinds(capsys):
    assert main(["show", "losses", "wasserstein", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    component = registries().component("loss", "wasserstein")
    assert shown["kind"] == "loss" and shown["options"] == describe_options(component.options)
    assert all("range" in option for option in shown["options"])


def test_show_unknown_name_suggests_the_closest(capsys):
    assert main(["show", "dataset", "image-foldr"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did you mean 'image-folder'" in err


@pytest.mark.parametrize("columns", [None, "80"], ids=["pipe", "80-columns"])
def test_plugins_listing_keeps_each_plugin_on_one_line(columns):
    out = _ganzoo("plugins", columns=columns)
    lines = out.splitlines()
    assert max(map(len, lines)) <= 80
    for record in registries().plugins:
        assert f"  {record.name}  ({record.distribution} {record.version})  ok" in lines
    assert not [line for line in lines if line.startswith("      ") and len(line.split()) == 1]


def test_show_writes_a_regulariser_as_the_list_entry_it_is_with_its_schedule(capsys):
    from ganzoo.cli.main import main

    assert main(["show", "regularizer", "r1"]) == 0
    out = capsys.readouterr().out
    assert '[[regularizer]] name = "r1", weight = W (default 1), every = N' in out
    assert "\n[regularizer]" not in out and "In a recipe: [regularizer]" not in out


def test_show_says_what_a_component_needs_and_provides(capsys):
    from ganzoo.cli.main import main

    assert main(["show", "loss", "acgan"]) == 0
    assert "Needs from the discriminator: class_logits" in capsys.readouterr().out
    assert main(["show", "discriminator", "acgan"]) == 0
    assert "Provides: " in capsys.readouterr().out
