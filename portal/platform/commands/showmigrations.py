"""``showmigrations``: every app's revisions, oldest first, applied ``[X]`` or not ``[ ]``."""

from __future__ import annotations

import argparse

from portal.platform.commands.base import (
    Command,
    command_settings,
    database_url,
    installed_apps,
)

__all__ = ["command"]


def _showmigrations(args: argparse.Namespace) -> int:
    from portal.platform.db.schema import PLATFORM, applied_revisions, branches, find_branch

    settings = command_settings(args)
    specs = installed_apps(settings)
    if args.app is not None:
        find_branch(specs, args.app)  # an unknown app, or one without tables, is an error
    applied = applied_revisions(database_url(settings), specs)
    by_name = {branch.name: branch for branch in branches(specs)}
    for name in [PLATFORM, *(spec.name for spec in specs)]:
        if args.app not in (None, name):
            continue
        print(name)
        branch = by_name.get(name)
        revisions = branch.revisions() if branch is not None else []
        if not revisions:
            print(" (no migrations)")
        for rev in revisions:
            print(f" [{'X' if rev.id in applied else ' '}] {rev.name}")
    return 0


def _arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("app", nargs="?", metavar="APP", help="only this app (or 'platform')")


command = Command(
    "showmigrations",
    "list every app's migrations, [X] where the database has them",
    _showmigrations,
    _arguments,
)
