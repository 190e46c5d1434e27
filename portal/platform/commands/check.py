"""``check``: unsafe deploy settings, each named; exit 1 if any."""

from __future__ import annotations

import argparse
import sys

from portal.platform.commands.base import Command, command_settings

__all__ = ["command"]


def _check(args: argparse.Namespace) -> int:
    from portal.platform.checks import deploy_problems

    problems = deploy_problems(command_settings(args))
    for problem in problems:
        print(f"ERROR: {problem}", file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) found.", file=sys.stderr)
        return 1
    print("No problems found.")
    return 0


command = Command("check", "report unsafe deploy settings; exits 1 if any", _check)
