"""Recipes: TOML files parsed into attrs classes and validated before any work starts."""

from ganzoo.recipe.load import (
    apply_overrides,
    load_recipe,
    parse_override,
    recipe_from_dict,
    resolve_recipe_path,
    shipped_recipes,
)
from ganzoo.recipe.schema import ComponentChoice, EvalOptions, OptimizerOptions, Recipe, TrainOptions

__all__ = [
    "ComponentChoice",
    "EvalOptions",
    "OptimizerOptions",
    "Recipe",
    "TrainOptions",
    "apply_overrides",
    "load_recipe",
    "parse_override",
    "recipe_from_dict",
    "resolve_recipe_path",
    "shipped_recipes",
]
