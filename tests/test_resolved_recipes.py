"""Each shipped recipe, resolved (every default written out), held to a stored copy.

README and benchmarks/RESULTS-quality.md publish figures per recipe; a change of a default anywhere (an option
class, a plugin, the trainer's options) would change what those recipes train without a line in their files.
This test makes such a change fail here, so that it is made on purpose: rewrite the stored copies with
``GANZOO_WRITE_RESOLVED=1 python3 -m pytest tests/test_resolved_recipes.py`` and say why in CHANGELOG.md.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import tomli_w

import ganzoo
from ganzoo.recipe.load import shipped_recipes

STORED = Path(__file__).parent / "resolved_recipes"
WRITE = os.environ.get("GANZOO_WRITE_RESOLVED") == "1"


def resolved(name: str) -> str:
    return tomli_w.dumps(ganzoo.load_recipe(name).to_dict())


@pytest.mark.parametrize("name", sorted(shipped_recipes()))
def test_shipped_recipe_resolves_as_stored(name):
    stored = STORED / f"{name}.toml"
    text = resolved(name)
    if WRITE:
        stored.write_text(text)
    assert stored.is_file(), f"no stored copy for the new recipe {name!r}: write it with GANZOO_WRITE_RESOLVED=1"
    assert text == stored.read_text(), (
        f"{name}: the resolved recipe changed (a default moved?); if on purpose, rewrite the stored copy "
        "with GANZOO_WRITE_RESOLVED=1 and add a CHANGELOG line"
    )


def test_every_stored_copy_is_a_shipped_recipe():
    """A recipe removed or renamed leaves no stale copy behind."""
    assert {p.stem for p in STORED.glob("*.toml")} == set(shipped_recipes())
