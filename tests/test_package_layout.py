"""The package's shape: no import cycles, modules of a readable size, the public API importable at once."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "depthkit"
MAX_LINES = 400  # a longer module states at its top why it is one piece


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """depthkit modules ``path`` imports at module level (imports inside functions are deliberate deferrals)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("depthkit"):
                out.add(target)
                for alias in node.names:  # `from . import report` imports a submodule
                    out.add(f"{target}.{alias.name}")
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("depthkit")}
    return out


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        graph[name] = {m for m in _imports(path) if m in modules and m != name}
    return graph


def test_package_layout_has_no_import_cycle():
    edges = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(edges[m]):
            if state.get(t) == 1:
                cycle = stack[stack.index(t):] + [t]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)


def test_package_layout_modules_are_short_or_say_why():
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > MAX_LINES and not any("longer than" in line and "because" in line for line in lines[:25]):
            long.append(f"{path.relative_to(PACKAGE.parent)} ({len(lines)} lines)")
    assert not long, "modules over ~400 lines without a reason at the top: " + ", ".join(long)


def test_package_layout_public_api_is_eager_and_complete():
    import depthkit

    for name in depthkit.__all__:
        assert getattr(depthkit, name) is not None, name
    assert callable(depthkit.verify) and callable(depthkit.report)  # the packages are callable functions too
    assert depthkit.verify.verify_folder and depthkit.report.build_report
