"""``migrate [APP [REVISION]]``: bring the schema up to date, or move one app's branch.

Plain ``migrate`` upgrades every branch to its head. ``migrate polls
polls_0001`` moves only polls' branch, down as well as up; ``migrate polls
zero`` unapplies all of it, dropping its tables, as Django's does.
"""

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
    from portal.platform.db.schema import find_branch, migrate_branch, upgrade

    settings = command_settings(args)
    specs = installed_apps(settings)
    if args.app is None:
        upgrade(database_url(settings), specs)
        print("The database schema is up to date.")
        return 0
    # Refuse an unknown app or revision before starting a database for nothing.
    branch = find_branch(specs, args.app)
    if args.revision is not None:
        branch.resolve(args.revision)
    print(migrate_branch(database_url(settings), specs, args.app, args.revision))
    return 0


def _arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "app", nargs="?", metavar="APP", help="only this app's branch (or 'platform')"
    )
    parser.add_argument(
        "revision",
        nargs="?",
        metavar="REVISION",
        help="where to take it, up or down: a revision (polls_0001, or 0001), or zero; "
        "default: its newest",
    )


command = Command(
    "migrate",
    "bring the database schema up to date, or move one app's migrations up or down",
    _migrate,
    _arguments,
)
