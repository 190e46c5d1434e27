"""``createsuperuser``: a staff user, its password asked twice or read from stdin."""

from __future__ import annotations

import argparse
import asyncio

from portal.platform.commands.base import (
    Command,
    CommandError,
    command_settings,
    database_url,
    read_new_password,
)

__all__ = ["command"]


def _create(args: argparse.Namespace) -> int:
    from portal.platform.auth.users import InvalidUser, create_user, validate_credentials
    from portal.platform.db import connect
    from portal.platform.errors import Conflict

    password = read_new_password(args)
    try:
        validate_credentials(args.username, password)
    except InvalidUser as exc:
        raise CommandError(str(exc)) from exc

    async def create() -> None:
        async with connect(database_url(command_settings(args))) as conn:
            await create_user(conn, args.username, password, is_staff=True)

    try:
        asyncio.run(create())
    except Conflict as exc:
        raise CommandError(str(exc)) from exc
    print(f"Staff user {args.username!r} created.")
    return 0


def _arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("--username", required=True)
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )


command = Command("createsuperuser", "create a staff user", _create, _arguments)
