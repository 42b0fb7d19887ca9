"""The behaviour guard: 3 tiny steps of every shipped recipe train as they did when the fingerprints in
tests/bit_identity.json were taken (weights, the fixed-noise sample grid and the logged figures).

A change of random-stream order, of the algorithm or of a default moves these figures by far more than the
tolerance; float rounding across CPUs does not. After a deliberate change of training behaviour, regenerate
with ``python benchmarks/bit_identity.py --write-fingerprints`` and say so in the CHANGELOG.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers_bit_identity import differences, fingerprint, train_short
from helpers_training import recipe_names

STORED = json.loads((Path(__file__).parent / "bit_identity.json").read_text())


def test_every_shipped_recipe_is_guarded():
    assert sorted(STORED) == sorted(recipe_names())


@pytest.mark.parametrize("name", sorted(STORED))
def test_recipe_trains_as_before(name, tmp_path):
    now = fingerprint(train_short(name, tmp_path / "run"))
    assert differences(STORED[name], now) == []


def test_the_guard_sees_a_change_of_behaviour(tmp_path, monkeypatch):
    """Another seed (the same models, other noise and data order) is caught: the guard can fail."""
    import helpers_bit_identity

    original = helpers_bit_identity.tiny
    monkeypatch.setattr(helpers_bit_identity, "tiny", lambda name, **kw: [*original(name, **kw), "seed=1"])
    now = fingerprint(train_short("vanilla-ring8", tmp_path / "run"))
    assert len(differences(STORED["vanilla-ring8"], now)) > 5


def test_the_guard_sees_a_change_of_a_learning_rate(tmp_path, monkeypatch):
    """D's learning rate doubled on r3gan-digits (one of the recipes whose fingerprints move between CPUs)
    is caught."""
    import helpers_bit_identity

    original = helpers_bit_identity.tiny
    monkeypatch.setattr(helpers_bit_identity, "tiny",
                        lambda name, **kw: [*original(name, **kw), "optim.discriminator.lr=2e-3"])
    now = fingerprint(train_short("r3gan-digits", tmp_path / "run"))
    assert differences(STORED["r3gan-digits"], now) != []
