"""``migrate``: bring the database schema up to date."""

from __future__ import annotations

import argparse

from portal.platform.commands.base import (
    Command,
    command_settings,
    database_url,
    installed_apps,
)

__all__ = ["command"]


def _migrate(args: argparse.Namespace) -> int:
    from portal.platform.migrations import upgrade

    settings = command_settings(args)
    upgrade(database_url(settings), installed_apps(settings))
    print("The database schema is up to date.")
    return 0


command = Command("migrate", "bring the database schema up to date", _migrate)
