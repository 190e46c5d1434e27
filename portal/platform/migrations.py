"""Schema versions with Alembic: one branch per app, each in the app's own package.

The platform's revisions live in ``portal/platform/migrations/versions`` and
each app's in its ``migrations/`` folder, labelled with the app's name, so an
app owns its tables and ``upgrade heads`` brings every branch up to date.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from alembic import command
from alembic.config import Config

from portal.platform.registry import AppSpec
from portal.platform.revisions import revision_folders

__all__ = ["alembic_config", "upgrade"]

_HERE = Path(__file__).parent / "migrations"


def alembic_config(url: str, specs: Iterable[AppSpec]) -> Config:
    """An Alembic configuration over the platform's and every app's revisions."""
    locations = [str(folder) for folder in revision_folders(specs)]
    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(locations))
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, specs: Iterable[AppSpec]) -> None:
    """Bring the schema at *url* up to date with every branch (blocking)."""
    command.upgrade(alembic_config(url, specs), "heads")
