"""The SQL store package: its modules stay small, one concern each, and import each other without a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

_PREFIX = "consentry.adapters.sql"
PACKAGE = Path(__file__).resolve().parents[2] / "src" / "consentry" / "adapters" / "sql"


def _own_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith(_PREFIX):
            continue
        if node.module == _PREFIX:
            found.update(a.name for a in node.names)
        else:
            found.add(str(node.module).rsplit(".", 1)[1])
    return found


def test_the_sql_modules_import_each_other_without_a_cycle() -> None:
    graph = {p.stem: _own_imports(p) for p in PACKAGE.glob("*.py")}
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, f"import cycle: {' -> '.join((*path, module))}"
        if module in done:
            return
        for dep in graph[module]:
            visit(dep, (*path, module))
        done.add(module)

    for module in graph:
        visit(module, ())
    assert done == set(graph)


def test_no_sql_module_is_over_400_lines() -> None:
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.glob("*.py")}
    assert sizes and {name: n for name, n in sizes.items() if n > 400} == {}
