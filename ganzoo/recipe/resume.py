"""A resume trains what the run was started with: the same data and the same models.

``ganzoo run OTHER --resume RUN`` (or a RUN/recipe.toml edited to other data) would otherwise go on
training the run's checkpoint on other data, or fail deep inside the models, and then rewrite the run's
recipe, metrics and weights. The recipe given is compared, section by section, with what the run recorded:
its recipe.toml, and the recipe embedded in its weights files (written when the run trained, so an edited
recipe.toml is caught too). Training settings (steps, logging, evaluation) may change; these may not.
Torch-free: it runs before anything heavy is imported.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ganzoo.errors import GanzooError
from ganzoo.recipe.schema import Recipe
from ganzoo.run_folder import WEIGHT_ROLES, RunFolder

#: what a resume must keep: the data and the models (their sections, and whether they are conditional)
FIXED = ("data", "generator", "discriminator", "conditional", "clusters")
HEADER_MAX = 100_000_000  # the JSON header of a safetensors file, in bytes (the format's own bound)


def check_resume(run_dir: str | Path, recipe: Recipe) -> None:
    """Refuse, naming what changed, a resume whose recipe trains other data or other models."""
    folder = RunFolder(Path(run_dir))
    wanted = _normal(recipe.to_dict())
    for source, recorded in _recorded(folder):
        changed = list(_differences(recorded, wanted))
        if changed:
            shown = "; ".join(changed[:3]) + (f"; and {len(changed) - 3} more" if len(changed) > 3 else "")
            raise GanzooError(
                f"--resume {folder.path}: the recipe changes what the run trained ({shown}; recorded in "
                f"{source}): a resume keeps the data and the models; resume with the run's own recipe, "
                "or start a new run with --out"
            )


def _recorded(folder: RunFolder) -> Iterator[tuple[Path, dict[str, Any]]]:
    """The recipes the run recorded: its recipe.toml (resolved, when it still loads) and its weights'."""
    from ganzoo.recipe.load import load_recipe

    if folder.recipe.is_file() and not folder.recipe.is_symlink():
        try:
            yield folder.recipe, _normal(load_recipe(folder.recipe).to_dict())
        except GanzooError:
            pass  # an unreadable recipe.toml is replaced by the one given; the weights still say what trained
    for role in WEIGHT_ROLES:
        path = folder.weights(role)
        embedded = _embedded_recipe(path)
        if embedded is not None:
            yield path, embedded


def _embedded_recipe(path: Path) -> dict[str, Any] | None:
    """``ganzoo.recipe`` from a safetensors header (read as JSON: no tensor is loaded), or None."""
    if not path.is_file() or path.is_symlink():
        return None
    try:
        with path.open("rb") as handle:
            size = int.from_bytes(handle.read(8), "little")
            if not 0 < size <= HEADER_MAX:
                return None
            header = json.loads(handle.read(size))
        recipe = json.loads(header["__metadata__"]["ganzoo.recipe"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # not ganzoo's weights: loading them says why, later
    return _normal(recipe) if isinstance(recipe, dict) else None


def _normal(table: Mapping[str, Any]) -> dict[str, Any]:
    """The fixed sections in JSON's own types (TOML and JSON differ in tuples and the like)."""
    return json.loads(json.dumps({key: table.get(key) for key in FIXED}, sort_keys=True, default=str))


def _differences(before: Mapping[str, Any], after: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        where = f"{prefix}{key}"
        if isinstance(old, dict) and isinstance(new, dict):
            yield from _differences(old, new, f"{where}.")
        elif old != new:
            yield f"{where}: {_show(old)} -> {_show(new)}"


def _show(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."
