"""Fuzzing validation: hundreds of random recipe trees over the schema's own keys (and random weights-file
metadata) go through validation in-process; the only exception allowed out is ganzoo's own error type.

Trees are built by hypothesis from the real key names (the recipe sections' fields and every registered
component's options), so most examples get past the first key and probe the checks behind it. Derandomized:
the same examples on every run, so CI never flakes.
"""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ganzoo.errors import GanzooError
from ganzoo.recipe.load import SECTIONS, TOP_LEVEL, check_data, recipe_from_dict
from ganzoo.recipe.schema import OptimizerOptions
from ganzoo.registry import registries

pytestmark = pytest.mark.filterwarnings("ignore")

SETTINGS = settings(max_examples=300, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

BASE = {
    "data": {"name": "ring8"},
    "generator": {"name": "mlp", "hidden_dims": [8]},
    "discriminator": {"name": "mlp", "hidden_dims": [8]},
    "loss": {"name": "non-saturating"},
}


def _names() -> dict[str, list[str]]:
    found = registries()
    return {kind: found[kind].names() for kind in ("dataset", "generator", "discriminator", "loss", "metric")}


def _option_keys() -> list[str]:
    found = registries()
    keys = {field.name for kind in ("dataset", "generator", "discriminator", "loss")
            for component in found[kind] for field in attrs.fields(component.options)}
    for cls in (*SECTIONS.values(), OptimizerOptions):
        keys |= {field.name for field in attrs.fields(cls)}
    return sorted(keys | {"name"})


NAMES = _names()
KEYS = _option_keys()

scalars = st.one_of(
    st.integers(), st.integers(min_value=-(2**70), max_value=2**70), st.sampled_from([0, 1, -1, 2**63, 2**64]),
    st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.text(max_size=12),
    st.sampled_from(["", "../x", "/abs", "adam", "cpu", "linear", "mlp", "ring8", "x" * 200]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=4),
    ),
    max_leaves=8,
)


@st.composite
def sections(draw, kind: str | None) -> object:
    """A component section (its name mostly a real one), an own section, or any value at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(values)
    table = draw(st.dictionaries(st.sampled_from(KEYS), values, max_size=4))
    if kind is not None and draw(st.integers(0, 5)):
        table["name"] = draw(st.sampled_from(NAMES[kind]) | st.text(max_size=8))
    return table


@st.composite
def recipes(draw) -> dict:
    raw: dict = {key: dict(value) for key, value in BASE.items()}
    kinds = {"data": "dataset", "generator": "generator", "discriminator": "discriminator", "loss": "loss"}
    for section, kind in kinds.items():
        if draw(st.booleans()):
            raw[section] = draw(sections(kind))
    for section in SECTIONS:
        if draw(st.booleans()):
            raw[section] = draw(sections(None))
    if draw(st.booleans()):
        raw["optim"] = {"generator": draw(sections(None)), "discriminator": draw(sections(None))}
    for key in TOP_LEVEL:
        if draw(st.integers(0, 3)) == 0:
            raw[key] = draw(values)
    if draw(st.integers(0, 9)) == 0:
        raw[draw(st.text(max_size=6))] = draw(values)
    return raw


@SETTINGS
@given(raw=recipes())
def test_random_recipes_raise_nothing_but_ganzoo_errors(raw):
    try:
        check_data(recipe_from_dict(raw, source="fuzz.toml"))
    except GanzooError as err:
        message = str(err)
        assert "\n" not in message and message.startswith("fuzz.toml"), message


metadata_values = st.one_of(values.map(lambda v: json.dumps(v, allow_nan=True)), st.text(max_size=20))
CARD_KEYS = ("role", "component", "plugin", "options", "shape", "num_classes", "latent_dim", "step", "recipe",
             "version", "units")


@settings(SETTINGS, max_examples=150)
@given(data=st.data())
def test_random_weights_metadata_raises_nothing_but_ganzoo_errors(data):
    from ganzoo.weights import ModelCard

    good = {"role": '"generator"', "component": '"mlp"', "plugin": '"mlp"', "options": "{}", "shape": "[2]",
            "num_classes": "0", "latent_dim": "8"}
    metadata = {f"ganzoo.{key}": value for key, value in good.items()}
    for key in data.draw(st.lists(st.sampled_from(CARD_KEYS), max_size=4)):
        metadata[f"ganzoo.{key}"] = data.draw(metadata_values)
    try:
        card = ModelCard.from_metadata(metadata, "fuzz.safetensors")
    except GanzooError as err:
        assert "\n" not in str(err) and str(err).startswith("fuzz.safetensors"), str(err)
        return
    assert isinstance(card.shape, tuple) and all(isinstance(s, int) and s >= 1 for s in card.shape)
    assert isinstance(card.num_classes, int) and card.num_classes >= 0


def test_the_fuzzer_knows_the_schema_keys():
    """The trees are drawn over the real keys: a renamed option would otherwise go unfuzzed silently."""
    assert {"steps", "batch_size", "latent_dim", "hidden_dims", "lr", "betas", "scale", "pack"} <= set(KEYS)
    assert Path(__file__).name == "test_fuzz_validation.py"
