"""The package's shape is a promise to the next reader: stage folders in pipeline order, each
importing only from the stages before it, no import circle, no file too long to read in one go.
docs/architecture.md describes every stage folder, and this test keeps it in step."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "xxgk"
ARCHITECTURE = PACKAGE.parents[1] / "docs" / "architecture.md"
STAGES = ["forms", "read", "check", "cycle", "write", "report", "site", "cli"]
BASE = {"xxgk.files"}  # utilities every stage may use; they import nothing of xxgk
MAX_LINES = 600


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``path`` imports, at any depth (function-level imports count)."""
    name = _module_name(path)
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:
                child = f"{target}.{alias.name}"
                found.add(child if child in known else target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m in known and m != name}


def stage(module: str) -> int | None:
    parts = module.split(".")
    return STAGES.index(parts[1]) if len(parts) > 1 and parts[1] in STAGES else None


def test_at_least_the_pipeline_stages_are_subpackages() -> None:
    packages = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))
    assert packages == sorted(STAGES)


def test_no_source_file_is_over_the_limit() -> None:
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_each_stage_imports_only_from_stages_before_it() -> None:
    known = set(modules())
    wrong = []
    for name, path in modules().items():
        mine = stage(name)
        for target in imports(path, known):
            if target in BASE or target == "xxgk":
                continue
            theirs = stage(target)
            if name in BASE or (mine is not None and theirs is not None and theirs > mine):
                wrong.append(f"{name} → {target}")
    assert wrong == []


def test_no_import_circle() -> None:
    known = set(modules())
    graph = {name: imports(path, known) - {"xxgk"} for name, path in modules().items() if name != "xxgk"}
    circles = [c for c in _strongly_connected(graph) if len(c) > 1]
    assert circles == []


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively (the graph is small, but recursion depth is not the point)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    result: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                result.append(sorted(component))
    return result


def test_the_circle_finder_finds_a_circle() -> None:
    assert _strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"], ["d"]]


@pytest.mark.parametrize("name", STAGES)
def test_architecture_page_describes_every_stage(name: str) -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    assert re.search(rf"^### `{name}/`", text, re.M), f"docs/architecture.md has no section for {name}/"


def test_public_api_is_importable_from_the_package() -> None:
    import xxgk

    for name in xxgk.__all__:
        assert getattr(xxgk, name) is not None
