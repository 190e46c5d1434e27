"""Which schema revisions the code expects, read without importing Alembic.

The server checks at start-up that the database is at the newest revision of
every branch. Importing Alembic for that costs a few hundred milliseconds of
start-up; the revision files themselves say all that is needed (``revision``
and ``down_revision``), so they are read with :mod:`ast` instead. A test holds
this to Alembic's own answer.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portal.platform.appspec import AppSpec

__all__ = [
    "PLATFORM_VERSIONS",
    "Revision",
    "expected_heads",
    "read_revisions",
    "revision_folders",
    "schema_problem",
]

#: The platform's own revisions; each app's live in its ``migrations/`` folder.
PLATFORM_VERSIONS = Path(__file__).parent / "migrations" / "versions"


def revision_folders(specs: Iterable[AppSpec]) -> list[Path]:
    """The platform's revision folder, then each app's."""
    return [PLATFORM_VERSIONS, *(spec.migrations for spec in specs if spec.migrations)]


@dataclass(frozen=True, slots=True)
class Revision:
    """One revision file: its id, the revisions it follows, and where it is."""

    id: str
    down: tuple[str, ...]
    path: Path

    @property
    def name(self) -> str:
        """The file's name without ``.py`` (``polls_0001_initial``), as lists show it."""
        return self.path.stem


def read_revisions(folder: Path) -> list[Revision]:
    """The revisions in *folder*, each after the ones it follows (oldest first)."""
    found: dict[str, Revision] = {}
    for path in sorted(folder.glob("*.py")):
        revision, down = _header(path)
        found[revision] = Revision(revision, down, path)
    ordered: list[Revision] = []
    placed: set[str] = set()
    while len(ordered) < len(found):
        # A parent outside the folder (another branch's) counts as in place.
        ready = [
            rev
            for rev in found.values()
            if rev.id not in placed and all(d in placed or d not in found for d in rev.down)
        ]
        if not ready:
            raise ValueError(f"{folder}: the revisions' down_revision lines form a cycle")
        for rev in sorted(ready, key=lambda rev: rev.id):
            ordered.append(rev)
            placed.add(rev.id)
    return ordered


def expected_heads(specs: Iterable[AppSpec]) -> set[str]:
    """The newest revision of every branch, as the code on disk knows them."""
    parents = {
        rev.id: rev.down for folder in revision_folders(specs) for rev in read_revisions(folder)
    }
    superseded = {parent for downs in parents.values() for parent in downs}
    return set(parents) - superseded


def _header(path: Path) -> tuple[str, tuple[str, ...]]:
    values: dict[str, Any] = {}
    for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            values[target.id] = ast.literal_eval(value)
    revision = values.get("revision")
    if not isinstance(revision, str):
        raise ValueError(f"{path}: no `revision = '...'` line")
    down = values.get("down_revision")
    downs = () if down is None else (down,) if isinstance(down, str) else tuple(down)
    return revision, downs


def schema_problem(current: Sequence[Any], expected: set[str]) -> str | None:
    """Why a database at revisions *current* cannot serve this code, or None.

    Revisions of branches this code does not mount (another site's apps on a
    shared database) are no reason to refuse; a branch behind, or ahead of
    what this code knows, is.
    """
    have = {str(rev) for rev in current}
    if expected <= have:
        return None
    missing = ", ".join(sorted(expected - have))
    return (
        "the database schema is not up to date "
        f"(database at: {', '.join(sorted(have)) or 'empty'}; missing: {missing}); "
        "run `python -m portal migrate`"
    )
