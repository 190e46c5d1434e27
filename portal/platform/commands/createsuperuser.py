"""``createsuperuser``: a staff user, its password asked twice or read from stdin."""

from __future__ import annotations

import argparse

from portal.platform.commands.base import Command
from portal.platform.commands.createuser import create_account

__all__ = ["command"]


def _create(args: argparse.Namespace) -> int:
    create_account(args, args.username, is_staff=True)
    print(f"Staff user {args.username!r} created.")
    return 0


def _arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("--username", required=True)
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )


command = Command("createsuperuser", "create a staff user", _create, _arguments)
