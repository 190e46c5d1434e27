"""``createuser``: a user (staff with ``--staff``), its password asked twice or read from stdin.

:func:`create_account` is the work ``createsuperuser`` shares.
"""

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

__all__ = ["command", "create_account"]


def create_account(args: argparse.Namespace, username: str, *, is_staff: bool) -> None:
    """Create *username* with a new password (see :func:`read_new_password`).

    The name and password are checked before the database is touched, so a
    refused password starts no embedded server and writes nothing.
    """
    from portal.platform.auth.users import InvalidUser, create_user, validate_credentials
    from portal.platform.db.engine import connect
    from portal.platform.exceptions import Conflict

    password = read_new_password(args)
    try:
        validate_credentials(username, password)
    except InvalidUser as exc:
        raise CommandError(str(exc)) from exc

    async def create() -> None:
        async with connect(database_url(command_settings(args))) as conn:
            await create_user(conn, username, password, is_staff=is_staff)

    try:
        asyncio.run(create())
    except Conflict as exc:
        raise CommandError(str(exc)) from exc


def _createuser(args: argparse.Namespace) -> int:
    create_account(args, args.username, is_staff=args.staff)
    print(f"{'Staff user' if args.staff else 'User'} {args.username!r} created.")
    return 0


def _arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("username", metavar="USERNAME")
    parser.add_argument("--staff", action="store_true", help="let the user into the admin")
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )


command = Command("createuser", "create a user (not staff unless --staff)", _createuser, _arguments)
