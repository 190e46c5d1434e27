"""The command line: ``python -m portal COMMAND`` (``--help`` lists them).

The platform's commands live in :mod:`portal.platform.commands`, an app's in
its spec's ``commands``. Every command reads the same settings as the server:
defaults, the YAML file given with ``--config`` (or ``PORTAL_CONFIG``), then
``PORTAL_*`` variables.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence

from portal.platform.commands import Command, merge, platform_commands
from portal.platform.exceptions import PortalError
from portal.platform.logs import configure_logging

__all__ = ["build_parser", "installed_commands", "main"]

_DESCRIPTION = (
    "portal's commands: the platform's and every installed app's. Each reads the "
    "settings the server reads: defaults, the YAML file given with --config (or "
    "PORTAL_CONFIG), then PORTAL_* variables."
)


def installed_commands(argv: Sequence[str] | None = None) -> dict[str, Command]:
    """The platform's commands and those of every app the settings install, by name.

    The settings come from ``--config`` if *argv* has it, as the command will read them.
    """
    from portal.platform.installed import load_apps
    from portal.settings import load_settings

    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("--config")
    config = options.parse_known_args(argv)[0].config
    settings = load_settings(config_file=config, require_secret=False)
    return merge(platform_commands(), *(spec.commands for spec in load_apps(settings)))


def build_parser(commands: Mapping[str, Command]) -> argparse.ArgumentParser:
    """The argument parser, one sub-command each, in alphabetical order."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="FILE", help="a YAML settings file")
    parser = argparse.ArgumentParser(prog="python -m portal", description=_DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in sorted(commands):
        command = commands[name]
        cmd = sub.add_parser(name, parents=[common], help=command.help, description=command.help)
        if command.arguments is not None:
            command.arguments(cmd, common)
        cmd.set_defaults(func=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a mistake prints one line and exits 1, never a traceback."""
    try:
        parser = build_parser(installed_commands(argv))
    except PortalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    args = parser.parse_args(argv)
    configure_logging("INFO")
    try:
        return int(args.func(args))
    except PortalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
