"""``db stop|delete``: the embedded PostgreSQL and its data folder."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from portal.platform.commands.base import Command, CommandError, command_settings

__all__ = ["command"]

#: What only portal's data folder holds; a folder with none of these is not one.
_DATA_MARKS = ("postgres", "secret_key", ".seeded")


def _db(args: argparse.Namespace) -> int:
    from portal.platform.db import embedded

    settings = command_settings(args)
    if args.action == "delete":
        return _delete_data(settings.data_dir, confirm=args.confirm)
    if settings.database_url is not None:
        raise CommandError("a database URL is configured: there is no embedded server to stop")
    if embedded.stop(settings.data_dir):
        print("The embedded PostgreSQL has stopped.")
    else:
        print("The embedded PostgreSQL was not running.")
    return 0


def _delete_data(data_dir: Path, *, confirm: bool) -> int:
    """Delete the data folder, but only one that is portal's, and only when confirmed."""
    from portal.platform.db import embedded

    folder = data_dir.resolve()
    if not folder.exists():
        print(f"Nothing to delete: {folder} does not exist.")
        return 0
    if not any((folder / mark).exists() for mark in _DATA_MARKS):
        raise CommandError(
            f"{folder} does not look like portal's data folder (it holds none of "
            f"{', '.join(_DATA_MARKS)}): nothing deleted; delete it by hand if you mean to"
        )
    if not confirm:
        print(
            f"This deletes {folder}: the embedded PostgreSQL with every user, API token, "
            "poll and todo in it, and the development secret key.\n"
            "Nothing was deleted. To delete it: make delete-data CONFIRM=1 "
            "(or python -m portal db delete --confirm).",
            file=sys.stderr,
        )
        return 1
    embedded.stop(folder)
    shutil.rmtree(folder)
    print(f"Deleted {folder}.")
    return 0


def _arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["stop", "delete"])
    parser.add_argument(
        "--confirm", action="store_true", help="delete: really delete the data folder"
    )


command = Command("db", "stop the embedded PostgreSQL, or delete its data folder", _db, _arguments)
