"""``token create|list|revoke``: API tokens from the command line."""

from __future__ import annotations

import argparse
import asyncio

from portal.platform.auth.tables import TOKEN_SCOPES
from portal.platform.commands.base import Command, CommandError, command_settings, database_url

__all__ = ["command"]


def _token(args: argparse.Namespace) -> int:
    from portal.platform.auth import tokens
    from portal.platform.auth.users import get_user_by_username
    from portal.platform.db.engine import connect
    from portal.platform.exceptions import NotFound

    async def run() -> None:
        async with connect(database_url(command_settings(args))) as conn:
            if args.action == "revoke":
                token = await tokens.revoke_token(conn, args.target)
                print(f"Token {token.id} ({token.name!r}) is revoked.")
                return
            user = await get_user_by_username(conn, args.target)
            if args.action == "list":
                for token in await tokens.list_tokens(conn, user.id):
                    state = "revoked" if token.revoked_at else "active"
                    used = token.last_used_at.isoformat() if token.last_used_at else "never"
                    print(
                        f"{token.id}\t{token.name}\t{state}\t{token.scope}"
                        f"\tcreated {token.created_at:%Y-%m-%d}\tlast used {used}"
                    )
                return
            if not user.is_active:
                raise CommandError(f"user {user.username!r} is inactive")
            token, secret = await tokens.create_token(conn, user.id, args.name, scope=args.scope)
            print(
                f"Token {token.id} ({token.name!r}, {token.scope} scope) for {user.username}; "
                "it is shown only once:"
            )
            print(secret)

    try:
        asyncio.run(run())
    except NotFound as exc:
        raise CommandError(str(exc)) from exc
    return 0


def _arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser(
        "create", parents=[common], help="a new token for USERNAME, printed once on the last line"
    )
    create.add_argument("target", metavar="USERNAME")
    create.add_argument("--name", default="cli", help="a label for the token")
    create.add_argument(
        "--scope",
        choices=TOKEN_SCOPES,
        default="write",
        help="read: the API's GET operations only; write (the default): any operation",
    )
    listing = actions.add_parser("list", parents=[common], help="the tokens of USERNAME")
    listing.add_argument("target", metavar="USERNAME")
    revoke = actions.add_parser("revoke", parents=[common], help="revoke the token with ID")
    revoke.add_argument("target", metavar="ID", type=int)


command = Command("token", "create, list or revoke API tokens", _token, _arguments)
