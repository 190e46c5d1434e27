"""Schema versions with Alembic: one branch per app, each in the app's own package.

The platform's revisions live in ``portal/platform/migrations/versions`` and
each app's in its ``migrations/`` folder, labelled with the app's name, so an
app owns its tables and ``upgrade heads`` brings every branch up to date.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from portal.platform.registry import AppSpec

__all__ = ["alembic_config", "expected_heads", "schema_problem", "upgrade"]

_HERE = Path(__file__).parent / "migrations"


def alembic_config(url: str, specs: Iterable[AppSpec]) -> Config:
    """An Alembic configuration over the platform's and every app's revisions."""
    locations = [str(_HERE / "versions")]
    locations += [str(spec.migrations) for spec in specs if spec.migrations is not None]
    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(locations))
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, specs: Iterable[AppSpec]) -> None:
    """Bring the schema at *url* up to date with every branch (blocking)."""
    command.upgrade(alembic_config(url, specs), "heads")


def expected_heads(specs: Iterable[AppSpec]) -> set[str]:
    """The newest revision of every branch, as the code on disk knows them."""
    script = ScriptDirectory.from_config(alembic_config("", specs))
    return set(script.get_heads())


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
