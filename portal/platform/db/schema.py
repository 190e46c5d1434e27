"""Schema versions with Alembic: one branch per app, each in the app's own package.

The platform's revisions live in ``portal/platform/db/migrations/versions`` and
each app's in its ``migrations/`` folder, labelled with the app's name, so an
app owns its tables and ``upgrade heads`` brings every branch up to date.
:func:`migrate_branch` moves one branch, up or down, as Django's
``migrate APP MIGRATION`` does.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from portal.platform.appspec import AppSpec
from portal.platform.db.revisions import (
    PLATFORM_VERSIONS,
    Revision,
    read_revisions,
    revision_folders,
)
from portal.platform.exceptions import PortalError

__all__ = [
    "PLATFORM",
    "ZERO",
    "Branch",
    "MigrationError",
    "alembic_config",
    "applied_revisions",
    "branches",
    "find_branch",
    "migrate_branch",
    "platform_metadata",
    "upgrade",
]

_HERE = Path(__file__).parent / "migrations"

#: The branch of the platform's own tables (users, tokens, the admin's log).
PLATFORM = "platform"
#: The revision before a branch's first: ``migrate APP zero`` removes its tables.
ZERO = "zero"


class MigrationError(PortalError):
    """A migration command cannot do what was asked; the message says why."""


@dataclass(frozen=True, slots=True)
class Branch:
    """One app's line of revisions (the platform's included) and the tables it makes."""

    name: str
    #: Where its revision files are (perhaps not created yet).
    folder: Path
    #: The tables the revisions should create; None when the app declares none.
    metadata: sa.MetaData | None

    def revisions(self) -> list[Revision]:
        """Its revisions, oldest first."""
        return read_revisions(self.folder) if self.folder.is_dir() else []

    def resolve(self, name: str) -> str | None:
        """The revision id *name* means (its id, file name or number); None for ``zero``."""
        if name == ZERO:
            return None
        for rev in self.revisions():
            if rev.id == f"{self.name}_{name}" or name in (rev.id, rev.name):
                return rev.id
        known = ", ".join([*(rev.id for rev in self.revisions()), ZERO])
        raise MigrationError(f"{self.name} has no revision {name!r} (it has: {known})")


def platform_metadata() -> sa.MetaData:
    """The platform's own tables, which the ``platform`` branch creates."""
    # The admin's log and the rate limiter's counters share the auth tables'
    # metadata (the log's foreign key to users resolves there); importing
    # their modules is what adds them.
    import portal.platform.admin.tables
    import portal.platform.ratelimit.counters  # noqa: F401
    from portal.platform.auth.tables import metadata

    return metadata


def branches(specs: Iterable[AppSpec]) -> list[Branch]:
    """The platform's branch, then one per app with tables or migrations, in order."""
    found = [Branch(PLATFORM, PLATFORM_VERSIONS, platform_metadata())]
    for spec in specs:
        if spec.migrations is not None:
            found.append(Branch(spec.name, spec.migrations, spec.metadata))
        elif spec.metadata is not None:
            raise MigrationError(
                f"app {spec.name!r} declares tables but no migrations folder: "
                "give its AppSpec migrations=<its package>/migrations"
            )
    return found


def find_branch(specs: Iterable[AppSpec], name: str) -> Branch:
    """The branch of app *name*; a clear error for an unknown app or one without tables."""
    specs = list(specs)
    for branch in branches(specs):
        if branch.name == name:
            return branch
    installed = [PLATFORM, *(spec.name for spec in specs)]
    if name in installed:
        raise MigrationError(f"app {name!r} has no tables, so no migrations")
    raise MigrationError(f"no installed app is named {name!r} (installed: {', '.join(installed)})")


def alembic_config(url: str, specs: Iterable[AppSpec]) -> Config:
    """An Alembic configuration over the platform's and every app's revisions."""
    locations = [str(folder) for folder in revision_folders(specs)]
    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(locations))
    # New revisions are named like the hand-written ones: polls_0003_add_due_date.py
    # (the revision id is the app's name and a number; see makemigrations).
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, specs: Iterable[AppSpec]) -> None:
    """Bring the schema at *url* up to date with every branch (blocking)."""
    command.upgrade(alembic_config(url, specs), "heads")


def applied_revisions(url: str, specs: Iterable[AppSpec]) -> set[str]:
    """Every revision applied to the database at *url* (the ones before its heads too)."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass('alembic_version') IS NOT NULL")
            row = cur.fetchone()
            heads: list[str] = []
            if row is not None and row[0]:
                cur.execute("SELECT version_num FROM alembic_version")
                heads = [str(version) for (version,) in cur.fetchall()]
    finally:
        conn.close()
    parents = {rev.id: rev.down for folder in revision_folders(specs) for rev in _read(folder)}
    applied: set[str] = set()
    pending = list(heads)
    while pending:
        rev = pending.pop()
        if rev not in applied:
            applied.add(rev)
            pending.extend(parents.get(rev, ()))
    return applied


def migrate_branch(url: str, specs: Iterable[AppSpec], name: str, target: str | None) -> str:
    """Move app *name*'s branch up or down to *target* (its head when None); what was done.

    ``zero`` unapplies every revision of the branch, dropping its tables.
    """
    specs = list(specs)
    branch = find_branch(specs, name)
    revisions = branch.revisions()
    if not revisions:
        raise MigrationError(f"{name} has no revisions yet: run `python -m portal makemigrations`")
    wanted = revisions[-1].id if target is None else branch.resolve(target)
    applied = applied_revisions(url, specs)
    done = [rev.id for rev in revisions if rev.id in applied]
    current = done[-1] if done else None
    if wanted == current:
        return f"{name} is already at {current or ZERO}."
    cfg = alembic_config(url, specs)
    if wanted is None:
        # The branch's label (the app's name, on its first revision) names its base.
        command.downgrade(cfg, f"{name}@base")
        return f"{name} is at zero: its revisions are unapplied."
    if wanted in applied:
        command.downgrade(cfg, wanted)
        return f"{name} is migrated down to {wanted}."
    command.upgrade(cfg, wanted)
    return f"{name} is migrated up to {wanted}."


def _read(folder: Path) -> list[Revision]:
    return read_revisions(folder) if folder.is_dir() else []
