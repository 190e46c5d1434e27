"""``loaddata``: a ``dumpdata`` file back into the database, all or nothing."""

from __future__ import annotations

import argparse
import asyncio
import sys

from portal.platform.commands.base import (
    Command,
    CommandError,
    command_settings,
    database_url,
    installed_apps,
)

__all__ = ["command"]

_EPILOG = (
    "The whole file is checked first (its shape, tables, columns and value types), "
    "then loaded in one transaction: on any error nothing is written and the message "
    "names the record (its place in the file, table and key) and why. A row whose "
    "primary key already exists is updated with the file's values, as Django's "
    "loaddata does; other rows are left alone. Afterwards each loaded table's id "
    "sequence is moved past its largest id."
)


def _loaddata(args: argparse.Namespace) -> int:
    from portal.platform.datatransfer import data_tables, load, parse
    from portal.platform.db.engine import connect

    settings = command_settings(args)
    data = data_tables(installed_apps(settings))
    if args.file == "-":
        text = sys.stdin.buffer.read()
    else:
        try:
            with open(args.file, "rb") as source:
                text = source.read()
        except OSError as exc:
            raise CommandError(f"cannot read {args.file}: {exc.strerror}") from exc
    records = parse(text, data)
    url = database_url(settings)

    async def run() -> None:
        async with connect(url) as conn:
            result = await load(conn, data, records)
        print(
            f"Loaded {len(records)} record(s) into {len(result.tables)} table(s): "
            f"{result.inserted} new, {result.updated} updated."
        )

    asyncio.run(run())
    return 0


def _arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.epilog = _EPILOG
    parser.add_argument("file", metavar="FILE", help="a dumpdata file; '-' reads standard input")


command = Command(
    "loaddata",
    "load a dumpdata file in one transaction (existing primary keys are updated)",
    _loaddata,
    _arguments,
)
