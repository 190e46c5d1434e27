"""How ``python -m portal`` collects commands: the platform's, then each installed app's."""

from __future__ import annotations

import argparse

import pytest

from portal import cli
from portal.platform.commands import Command, CommandError, merge, platform_commands


def _hello(args: argparse.Namespace) -> int:
    print(f"hello {args.who}")
    return 0


def _who(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("who")


HELLO = Command("hello", "say hello", _hello, _who)


def test_every_platform_command_module_is_collected() -> None:
    names = {command.name for command in platform_commands()}

    assert {"run", "migrate", "seed", "createsuperuser", "token", "check", "db"} <= names


def test_an_apps_command_runs_with_its_own_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    parser = cli.build_parser(merge(platform_commands(), [HELLO]))

    args = parser.parse_args(["hello", "world"])

    assert args.func(args) == 0
    assert capsys.readouterr().out == "hello world\n"


def test_two_commands_with_one_name_are_refused_naming_it() -> None:
    clash = Command("seed", "an app's own seed", _hello)

    with pytest.raises(CommandError, match="two commands are named 'seed'"):
        merge(platform_commands(), [clash])
