"""``changepassword``: a new password for a user, which ends every session they have."""

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


def _changepassword(args: argparse.Namespace) -> int:
    from portal.platform.auth.users import (
        InvalidUser,
        get_user_by_username,
        set_password,
        validate_password,
    )
    from portal.platform.db.engine import connect
    from portal.platform.exceptions import NotFound

    url = database_url(command_settings(args))

    async def exists() -> None:
        async with connect(url) as conn:
            await get_user_by_username(conn, args.username)

    async def change(password: str) -> None:
        async with connect(url) as conn:
            # Sessions end by trigger when the hash changes (set_password);
            # API tokens are not touched.
            await set_password(conn, args.username, password)

    try:
        # Before the prompt: nobody should type a password twice for a typo.
        asyncio.run(exists())
        password = read_new_password(args)
        validate_password(password)
        asyncio.run(change(password))
    except (NotFound, InvalidUser) as exc:
        raise CommandError(str(exc)) from exc
    print(f"Password of {args.username!r} changed; every session of theirs has ended.")
    return 0


def _arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("username", metavar="USERNAME")
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )


command = Command(
    "changepassword",
    "set a user's password; every session of theirs ends",
    _changepassword,
    _arguments,
)
