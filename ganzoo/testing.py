"""Test helpers for plugin authors: register a throwaway plugin in-process, and take it away again.

ganzoo installs this module as a pytest plugin (entry point ``pytest11: ganzoo``), so the
``ganzoo_plugin`` fixture is available in any test suite of an environment where ganzoo is installed;
nothing needs importing. A plugin is any object holding ``@ganzoo.hookimpl`` functions: a module, a
class instance, or a ``types.SimpleNamespace``. Example: a throwaway dataset to test your generator on::

    from types import SimpleNamespace

    import ganzoo

    @ganzoo.hookimpl
    def register_datasets(register):
        register("tiny-images", "my_tests.fakes:TinyImages", description="4 random 16x16 images",
                 info=lambda options: ganzoo.DataInfo(shape=(1, 16, 16), num_classes=2))

    def test_my_generator_takes_small_images(ganzoo_plugin):
        ganzoo_plugin(SimpleNamespace(register_datasets=register_datasets), name="fakes")
        recipe = ganzoo.load_recipe("tests/tiny-recipe.toml")  # [data] name = "tiny-images"
        assert recipe.data_info.shape == (1, 16, 16)

Outside pytest (a notebook, a script), use the context manager::

    from ganzoo.testing import registered_plugin

    with registered_plugin(SimpleNamespace(register_datasets=register_datasets), name="fakes"):
        recipe = ganzoo.load_recipe("tiny-recipe.toml")

Your installed plugin needs neither: its entry point has registered it already (registering the same object
again raises ``ValueError``, as does reusing an installed plugin's name); look its components up with
``ganzoo.registries().component(kind, name)``. Installed plugins stay registered beside throwaway ones, as
they would for a user, so a component name that clashes with theirs raises
``ganzoo.errors.DuplicateComponentError`` on the next look-up, unless registered with ``override=True``.

This module is loaded into every pytest run of such an environment, so it imports nothing heavy (no torch,
and ganzoo's registry only when used).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

try:
    import pytest
except ImportError:  # pragma: no cover - the context manager works without pytest
    pytest = None  # type: ignore[assignment]

P = TypeVar("P")

DEFAULT_NAME = "test-plugin"


@contextlib.contextmanager
def registered_plugin(plugin: P, name: str = DEFAULT_NAME) -> Iterator[P]:
    """Register ``plugin`` in-process under ``name`` for the ``with`` block, then unregister it.

    The plugin is unregistered even when the block raises; the registries are rebuilt on the next look-up
    both times. Yields ``plugin``. Registering a name already in use raises ``ValueError`` and leaves the
    plugin that holds it in place.
    """
    from ganzoo.registry import add_plugin, remove_plugin

    add_plugin(plugin, name)
    try:
        yield plugin
    finally:
        remove_plugin(name)


if pytest is not None:

    @pytest.fixture
    def ganzoo_plugin() -> Iterator[Callable[..., Any]]:
        """A function ``register(plugin, name="test-plugin")`` that registers ``plugin`` for this test.

        Call it once per plugin (give each its own ``name``); every plugin is unregistered at teardown,
        even when the test fails. ``register`` returns the plugin. See the module's docstring for an example.
        """
        with contextlib.ExitStack() as stack:

            def register(plugin: P, name: str = DEFAULT_NAME) -> P:
                return stack.enter_context(registered_plugin(plugin, name))

            yield register
