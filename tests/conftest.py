"""Shared fixtures. ``ganzoo_plugin`` comes from ganzoo.testing (a pytest11 entry point)."""

from __future__ import annotations

import pytest

from ganzoo import registry

pytest_plugins = ["pytester"]  # runs a plugin author's test suite in tests/test_registry.py


@pytest.fixture(autouse=True)
def _fresh_registries():
    """Each test starts from the installed plugins only: forget in-process plugins and cached registries."""
    registry.reset()
    yield
    registry.reset()


@pytest.fixture
def one_thread():
    """torch on one thread for the test, restored after: tiny models on a small shared machine run tens of
    times faster than with every core spinning (the training-engine tests use this)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
