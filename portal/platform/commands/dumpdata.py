"""``dumpdata``: tables to JSON, ordered so the same rows always give the same bytes."""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from portal.platform.commands.base import (
    Command,
    command_settings,
    database_url,
    installed_apps,
)

__all__ = ["command"]

_EPILOG = (
    "Without APP: the platform's tables (users with their password hashes, API tokens "
    "as hashes, the admin change log, login failures) and every installed app's. "
    "Password and token hashes are dumped as they are stored (never a secret in "
    "clear), so a restored database keeps its logins and tokens: keep dumps as "
    "private as the database, or leave them out with --exclude platform. "
    "One record per line: tables after those they reference, rows by primary key, "
    "keys sorted; timestamps in UTC with microseconds."
)


def _dumpdata(args: argparse.Namespace) -> int:
    from portal.platform.datatransfer import data_tables, dump
    from portal.platform.db.engine import connect

    settings = command_settings(args)
    data = data_tables(installed_apps(settings))
    # Names are checked before the database is reached: a typo costs nothing.
    labels = data.select(args.names, args.exclude)
    url = database_url(settings)

    async def run(out: IO[str]) -> None:
        async with connect(url) as conn:
            await dump(conn, data, labels, out)

    with _output(args.output) as out:
        asyncio.run(run(out))
    return 0


@contextmanager
def _output(path: str | None) -> Iterator[IO[str]]:
    """UTF-8 text to *path*, complete or not at all; standard output without one."""
    if path is None:
        # UTF-8 whatever the locale: non-ASCII text is written as is.
        sys.stdout.flush()
        out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n")
        try:
            yield out
        finally:
            out.flush()
            # Detached, or closing the wrapper (when collected) would close stdout.
            out.detach()
        return
    # Written beside the file and renamed once complete: a failed dump never
    # leaves a truncated file that looks like a dump.
    target = Path(path)
    partial = target.with_name(f".{target.name}.partial")
    try:
        with partial.open("w", encoding="utf-8", newline="\n") as out:
            yield out
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def _arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.epilog = _EPILOG
    parser.add_argument(
        "names",
        nargs="*",
        metavar="APP[.TABLE]",
        help="an installed app (all its tables; 'platform' for the platform's) or one table",
    )
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="APP[.TABLE]",
        help="leave this app or table out (repeatable)",
    )
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE instead of standard output"
    )


command = Command(
    "dumpdata",
    "write tables as JSON on standard output, ordered so equal data gives equal bytes",
    _dumpdata,
    _arguments,
)
