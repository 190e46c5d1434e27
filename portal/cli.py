"""The command line: ``python -m portal run|migrate|seed|createsuperuser|token|check|db``.

Every command reads the same settings as the server: defaults, the YAML file
given with ``--config`` (or ``PORTAL_CONFIG``), then ``PORTAL_*`` variables.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from portal.platform.errors import PortalError
from portal.platform.logs import configure_logging
from portal.settings import Settings, load_settings

__all__ = ["main"]

log = logging.getLogger("portal")

Command = Callable[[argparse.Namespace], int]


class CommandError(PortalError):
    """A command cannot go on; the message is shown to the user as is."""


def _settings(args: argparse.Namespace, *, serving: bool = False) -> Settings:
    return load_settings(debug_default=False, config_file=args.config, require_secret=serving)


def _database_url(settings: Settings) -> str:
    if settings.database_url is not None:
        return settings.database_url
    from portal.platform import embedded

    return embedded.start(settings.data_dir)


def cmd_run(args: argparse.Namespace) -> int:
    import uvloop

    from portal.main import create_app
    from portal.platform import embedded
    from portal.platform.serving import serve

    settings = _settings(args, serving=True)
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = settings.with_overrides(**overrides)
    logging.getLogger().setLevel(settings.log_level.upper())
    # Started here rather than only in the app's context, to learn whether this
    # process owns the server: then it is stopped at exit, after the engine has
    # closed. A server that was already running (make run, another process) stays.
    owned = settings.embedded_database and embedded.ensure_running(settings.data_dir).started
    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(serve(create_app(settings), settings))
    finally:
        if owned:
            log.info("stopping the embedded PostgreSQL this process started")
            embedded.stop(settings.data_dir)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from portal.main import INSTALLED_APPS
    from portal.platform.migrations import upgrade

    upgrade(_database_url(_settings(args)), INSTALLED_APPS)
    print("The database schema is up to date.")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from portal.main import INSTALLED_APPS
    from portal.platform.db import connect

    async def seed_all() -> None:
        async with connect(_database_url(_settings(args))) as conn:
            for spec in INSTALLED_APPS:
                if spec.seed is not None:
                    async with conn.begin():
                        await spec.seed(conn)
                    print(f"Sample data for {spec.name} is loaded.")

    asyncio.run(seed_all())
    return 0


def _read_new_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise CommandError("no terminal to ask for a password on: use --password-stdin")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password (again): "):
        raise CommandError("the two passwords differ")
    return first


def cmd_createsuperuser(args: argparse.Namespace) -> int:
    from portal.platform.auth.users import InvalidUser, create_user, validate_credentials
    from portal.platform.db import connect
    from portal.platform.errors import Conflict

    password = _read_new_password(args)
    try:
        validate_credentials(args.username, password)
    except InvalidUser as exc:
        raise CommandError(str(exc)) from exc

    async def create() -> None:
        async with connect(_database_url(_settings(args))) as conn:
            await create_user(conn, args.username, password, is_staff=True)

    try:
        asyncio.run(create())
    except Conflict as exc:
        raise CommandError(str(exc)) from exc
    print(f"Staff user {args.username!r} created.")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from portal.platform.auth import tokens
    from portal.platform.auth.users import get_user_by_username
    from portal.platform.db import connect
    from portal.platform.errors import NotFound

    async def run() -> None:
        async with connect(_database_url(_settings(args))) as conn:
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
                        f"{token.id}\t{token.name}\t{state}\tcreated {token.created_at:%Y-%m-%d}"
                        f"\tlast used {used}"
                    )
                return
            if not user.is_active:
                raise CommandError(f"user {user.username!r} is inactive")
            token, secret = await tokens.create_token(conn, user.id, args.name)
            print(f"Token {token.id} ({token.name!r}) for {user.username}; it is shown only once:")
            print(secret)

    try:
        asyncio.run(run())
    except NotFound as exc:
        raise CommandError(str(exc)) from exc
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from portal.platform.checks import deploy_problems

    problems = deploy_problems(_settings(args))
    for problem in problems:
        print(f"ERROR: {problem}", file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) found.", file=sys.stderr)
        return 1
    print("No problems found.")
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from portal.platform import embedded

    settings = _settings(args)
    if args.action == "delete":
        return _delete_data(settings.data_dir, confirm=args.confirm)
    if settings.database_url is not None:
        raise CommandError("a database URL is configured: there is no embedded server to stop")
    if embedded.stop(settings.data_dir):
        print("The embedded PostgreSQL has stopped.")
    else:
        print("The embedded PostgreSQL was not running.")
    return 0


#: What only portal's data folder holds; a folder with none of these is not one.
_DATA_MARKS = ("postgres", "secret_key", ".seeded")


def _delete_data(data_dir: Path, *, confirm: bool) -> int:
    """Delete the data folder, but only one that is portal's, and only when confirmed."""
    from portal.platform import embedded

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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, one sub-command each."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="FILE", help="a YAML settings file")
    parser = argparse.ArgumentParser(prog="python -m portal", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func: Command, help_: str) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, parents=[common], help=help_, description=help_)
        cmd.set_defaults(func=func)
        return cmd

    run = add("run", cmd_run, "serve the site in production mode (debug off)")
    run.add_argument("--host", help="address to listen on (default: setting 'host')")
    run.add_argument("--port", type=int, help="port to listen on (default: setting 'port')")
    add("migrate", cmd_migrate, "bring the database schema up to date")
    add("seed", cmd_seed, "load the sample data (running it twice adds nothing)")
    create = add("createsuperuser", cmd_createsuperuser, "create a staff user")
    create.add_argument("--username", required=True)
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    token = add("token", cmd_token, "create, list or revoke API tokens")
    token_sub = token.add_subparsers(dest="action", required=True, metavar="ACTION")
    create_token = token_sub.add_parser(
        "create", parents=[common], help="a new token for USERNAME, printed once on the last line"
    )
    create_token.add_argument("target", metavar="USERNAME")
    create_token.add_argument("--name", default="cli", help="a label for the token")
    list_tokens = token_sub.add_parser("list", parents=[common], help="the tokens of USERNAME")
    list_tokens.add_argument("target", metavar="USERNAME")
    revoke = token_sub.add_parser("revoke", parents=[common], help="revoke the token with ID")
    revoke.add_argument("target", metavar="ID", type=int)
    add("check", cmd_check, "report unsafe deploy settings; exits 1 if any")
    db = add("db", cmd_db, "stop the embedded PostgreSQL, or delete its data folder")
    db.add_argument("action", choices=["stop", "delete"])
    db.add_argument("--confirm", action="store_true", help="delete: really delete the data folder")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a mistake prints one line and exits 1, never a traceback."""
    args = build_parser().parse_args(argv)
    configure_logging("INFO")
    try:
        return int(args.func(args))
    except PortalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
