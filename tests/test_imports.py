"""ganzoo's modules import each other without a circle, and the trainer stands below the API.

The graph is read from the source (ast): every import a module can run, those deferred into functions
included (a deferred import hides a circle, it does not remove it), those under ``if TYPE_CHECKING:``
left out (they never run). Importing a module also runs the packages above it (``ganzoo.recipe.schema``
runs ``ganzoo/recipe/__init__.py``); the root package ``ganzoo`` is left out, its names being lazy.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "ganzoo"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.Module, deferred: bool = True) -> list[ast.Import | ast.ImportFrom]:
    """Every import the module can run: at its top and (``deferred``) inside functions, not under
    ``if TYPE_CHECKING:``."""
    found: list[ast.Import | ast.ImportFrom] = []
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If) and _is_type_checking(node):
            todo += node.orelse
        elif not deferred and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        else:
            todo += ast.iter_child_nodes(node)
    return found


def import_graph(deferred: bool = True) -> dict[str, set[str]]:
    """Each ganzoo module -> the ganzoo modules (and their packages) it imports (``deferred``: in functions
    too)."""
    files = {_module_name(path): path for path in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in _imports(ast.parse(path.read_text(encoding="utf-8")), deferred):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
                continue
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                base = ".".join(anchor[: len(anchor) - node.level + 1] + ([base] if base else []))
            targets.add(base)
            targets.update(f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in files)
        graph[name] = set()
        for target in targets:
            parts = target.split(".")
            for depth in range(2, len(parts) + 1):  # the module and every package above it but the root
                prefix = ".".join(parts[:depth])  # (and but the importer's own packages: already running)
                if prefix in files and prefix != name and not name.startswith(prefix + "."):
                    graph[name].add(prefix)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node], _ = 1, stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node], _ = 2, stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_no_import_circle():
    assert find_cycle(import_graph()) is None


def test_the_walk_sees_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    graph = import_graph()
    assert {"ganzoo.recipe.load", "ganzoo.recipe.schema"} <= graph["ganzoo.recipe"]
    assert "ganzoo.run_folder" in graph["ganzoo.cli.run"]  # `from ganzoo.run_folder import RunFolder`
    assert "ganzoo.evaluation" in graph["ganzoo.evaluation.best"] or "ganzoo.errors" in graph["ganzoo.evaluation.best"]


ABOVE_TRAINING = ("api", "build", "registry", "recipe")


@pytest.mark.parametrize("module", sorted(m for m in import_graph() if m.startswith("ganzoo.training")))
def test_training_stands_below_the_api_the_registry_and_recipes(module):
    """The trainer takes built objects: what builds them from names sits above it. Neither training/'s own
    imports (deferred ones included) nor what importing it runs reach api, build, registry or recipe."""
    direct = import_graph()[module]
    runs = reachable(import_graph(deferred=False), module)
    assert sorted(m for m in direct | runs if m.split(".")[1] in ABOVE_TRAINING) == []
