"""What every command is made of, and the helpers they share."""

from __future__ import annotations

import argparse
import getpass
import importlib
import pkgutil
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from portal.platform.appspec import AppSpec
from portal.platform.exceptions import PortalError
from portal.settings import Settings, load_settings

__all__ = [
    "Command",
    "CommandError",
    "command_settings",
    "database_url",
    "installed_apps",
    "merge",
    "platform_commands",
    "read_new_password",
]


class CommandError(PortalError):
    """A command cannot go on; the message is shown to the user as is."""


@dataclass(frozen=True, slots=True)
class Command:
    """One ``python -m portal NAME`` command."""

    name: str
    #: One line, shown by ``--help``.
    help: str
    #: Does the work; the exit status. A :class:`PortalError` is shown as one line.
    run: Callable[[argparse.Namespace], int]
    #: Adds the command's own arguments to its parser. The second parser holds
    #: the options every command takes (``--config``), for nested sub-commands.
    arguments: Callable[[argparse.ArgumentParser, argparse.ArgumentParser], None] | None = None


def command_settings(args: argparse.Namespace, *, serving: bool = False) -> Settings:
    """The settings, as the server reads them, with ``--config`` if given."""
    return load_settings(debug_default=False, config_file=args.config, require_secret=serving)


def installed_apps(settings: Settings) -> tuple[AppSpec, ...]:
    """The specs of the apps *settings* install, in their order."""
    from portal.platform.installed import load_apps

    return load_apps(settings)


def database_url(settings: Settings) -> str:
    """The configured database, or the embedded PostgreSQL, started if need be."""
    if settings.database_url is not None:
        return settings.database_url
    from portal.platform.db import embedded

    return embedded.start(settings.data_dir)


def read_new_password(args: argparse.Namespace) -> str:
    """A new password: from standard input with ``--password-stdin``, else asked twice."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise CommandError("no terminal to ask for a password on: use --password-stdin")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password (again): "):
        raise CommandError("the two passwords differ")
    return first


def platform_commands() -> list[Command]:
    """The platform's own commands: ``command`` in each module of this package."""
    from portal.platform import commands

    found = []
    for module in pkgutil.iter_modules(commands.__path__):
        if module.name == "base":
            continue
        imported = importlib.import_module(f"{commands.__name__}.{module.name}")
        found.append(imported.command)
    return found


def merge(*groups: Iterable[Command]) -> dict[str, Command]:
    """Commands by name; two with one name is a mistake to fix, named."""
    merged: dict[str, Command] = {}
    for group in groups:
        for command in group:
            if command.name in merged:
                raise CommandError(f"two commands are named {command.name!r}: rename one")
            merged[command.name] = command
    return merged
