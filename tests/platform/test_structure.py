"""The shape of the code: apps use the platform only through its front door,
and no module's imports form a circle."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import portal
from portal import appkit

PACKAGE = Path(portal.__file__).parent
ROOT = PACKAGE.parent
APPS = PACKAGE / "apps"
TEMPLATE = PACKAGE / "platform" / "commands" / "app_template"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def portal_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.parts and "app_template" not in path.parts
    }


def imported_modules(tree: ast.Module, known: set[str]) -> Iterator[str]:
    """The portal modules *tree* imports when it is imported (not under TYPE_CHECKING,
    not inside functions): ``from pkg import sub`` counts as ``pkg.sub``."""
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = [f"{node.module}.{alias.name}" for alias in node.names]
            found = [sub for sub in subs if sub in known]
            yield from found or [node.module]
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return cycles


def test_no_modules_import_each_other_in_a_circle() -> None:
    modules = portal_modules()
    known = set(modules)
    graph = {
        name: {dep for dep in imported_modules(ast.parse(path.read_text()), known) if dep in known}
        - {name}
        for name, path in modules.items()
    }

    assert import_cycles(graph) == []


def test_the_cycle_finder_finds_a_circle() -> None:
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def platform_imports(source: str) -> list[str]:
    """The platform modules *source* names in any import, anywhere in the file."""
    # The app template's placeholders are not Python; they never sit in an import
    # of the platform.
    tree = ast.parse(source.replace("$App", "App").replace("${app}", "app").replace("$", ""))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return [
        name
        for name in names
        if name.startswith("portal.platform") or name in ("portal.settings", "portal.main")
    ]


APP_SOURCES = sorted(
    [*APPS.rglob("*.py"), *(p for p in TEMPLATE.rglob("*.py.tmpl"))],
    key=str,
)


@pytest.mark.parametrize("path", APP_SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_apps_use_the_platform_only_through_appkit(path: Path) -> None:
    assert platform_imports(path.read_text()) == []


def test_the_checker_sees_an_import_of_the_platform() -> None:
    source = "def f():\n    from portal.platform.db.engine import db_key\n"

    assert platform_imports(source) == ["portal.platform.db.engine"]


def test_the_platform_never_imports_the_front_door() -> None:
    # appkit imports the platform; a platform module importing appkit back
    # would tie the internals to the public names and start a circle.
    importers = [
        name
        for name, path in portal_modules().items()
        if name.startswith("portal.platform")
        and "portal.appkit" in platform_imports_any(path.read_text())
    ]

    assert importers == []


def platform_imports_any(source: str) -> set[str]:
    tree = ast.parse(source)
    return {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }


def test_every_name_appkit_exports_exists() -> None:
    missing = [name for name in appkit.__all__ if not hasattr(appkit, name)]

    assert missing == []
