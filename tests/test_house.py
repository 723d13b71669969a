"""The shape of the package: imports flow one way (no circle, the library never imports a door at module level),
and importing `rag` changes nothing outside it."""

from __future__ import annotations

import ast
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "rag"
DOORS = ("rag.cli", "rag.ui", "rag.api", "rag.mcp", "rag.integrations")


def _is_door(module: str) -> bool:
    return any(module == door or module.startswith(door + ".") for door in DOORS)


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


@cache
def import_graph(lazy: bool = True) -> dict[str, set[str]]:
    """Module -> the package modules it imports: every import statement (inside functions and `TYPE_CHECKING`
    blocks too) when `lazy`, else only those run when the module is imported."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        nodes = ast.walk(tree) if lazy else _module_level(tree.body)
        for node in nodes:
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([node.module] if node.module else [])])
                for alias in node.names:
                    target = f"{base}.{alias.name}"
                    graph[name] |= {target} if target in modules else ({base} if base in modules else set())
            elif isinstance(node, ast.Import):
                graph[name] |= {alias.name for alias in node.names if alias.name in modules}
        graph[name].discard(name)
    return graph


def _module_level(body: list[ast.stmt]):
    """The statements run at import: not function bodies, not `if TYPE_CHECKING:` blocks."""
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from _module_level(node.orelse)
            continue
        yield node
        if isinstance(node, ast.ClassDef | ast.If | ast.Try | ast.With):
            for field in ("body", "orelse", "finalbody", "handlers"):
                for child in getattr(node, field, []):
                    yield from _module_level([child] if isinstance(child, ast.stmt) else child.body)


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circle_counting_lazy_and_type_only_imports() -> None:
    assert circles(import_graph(lazy=True)) == []


def test_the_circle_finder_finds_a_circle() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("module", sorted(m for m in _modules() if not _is_door(m) and m != "rag"))
def test_the_library_imports_no_door_at_module_level(module: str) -> None:
    doors = {m for m in import_graph(lazy=False)[module] if _is_door(m)}
    assert not doors, f"{module} imports {doors} when imported: a door depends on the library, not the reverse"


@pytest.mark.slow  # starts a Python child process (about 1 s to import torch)
def test_importing_the_package_sets_no_environment_variable() -> None:
    code = (
        "import os, json; before = dict(os.environ); "
        "import rag, rag.index.embedders, rag.index.bm25, rag.corpus.tabular, rag.assistant; "
        "print(json.dumps(sorted(k for k in os.environ if os.environ.get(k) != before.get(k))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_slow_test_gets_a_time_limit_unless_it_names_one(request: pytest.FixtureRequest) -> None:
    from tests.conftest import SLOW_TIMEOUT, pytest_collection_modifyitems

    class Item:
        def __init__(self, *marks: pytest.MarkDecorator) -> None:
            self.marks = [m.mark for m in marks]

        def get_closest_marker(self, name: str) -> pytest.Mark | None:
            return next((m for m in self.marks if m.name == name), None)

        def add_marker(self, mark: pytest.MarkDecorator) -> None:
            self.marks.append(mark.mark)

    slow, own, fast = Item(pytest.mark.slow), Item(pytest.mark.slow, pytest.mark.timeout(30)), Item()
    pytest_collection_modifyitems([slow, own, fast])  # type: ignore[list-item]
    assert slow.get_closest_marker("timeout").args == (SLOW_TIMEOUT,)
    assert own.get_closest_marker("timeout").args == (30,) and fast.get_closest_marker("timeout") is None
    assert request.config.getini("timeout") == "120" and SLOW_TIMEOUT > 120  # the fast tests' limit


def test_every_module_is_short_enough_to_read_in_one_sitting() -> None:
    long = {name: n for name, path in _modules().items() if (n := path.read_text(encoding="utf-8").count("\n")) > 410}
    assert not long, f"split these along their steps: {long}"


def module_names_bound_twice(source: str) -> list[str]:
    """Names a module's top level binds more than once (assignments, functions, classes): a later binding silently
    replaces the earlier one for every use in the module."""
    seen: set[str] = set()
    twice: list[str] = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names = [node.name]
        else:
            continue
        twice += [n for n in names if n in seen and n != "__all__"]
        seen.update(names)
    return twice


def test_no_module_binds_a_top_level_name_twice() -> None:
    """A second `_TOKEN = ...` at the end of rag/words.py once replaced the tokenizer `terms` joins words with."""
    assert module_names_bound_twice("_TOKEN = 1\ndef f(): pass\n_TOKEN = 2\n") == ["_TOKEN"]
    twice = {name: found for name, path in _modules().items() if (found := module_names_bound_twice(path.read_text()))}
    assert not twice, f"rename one of each: {twice}"
