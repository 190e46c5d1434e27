"""``migrate``: bring the database schema up to date."""

from __future__ import annotations

import argparse

from portal.platform.commands.base import Command, command_settings, database_url

__all__ = ["command"]


def _migrate(args: argparse.Namespace) -> int:
    from portal.main import INSTALLED_APPS
    from portal.platform.migrations import upgrade

    upgrade(database_url(command_settings(args)), INSTALLED_APPS)
    print("The database schema is up to date.")
    return 0


command = Command("migrate", "bring the database schema up to date", _migrate)
