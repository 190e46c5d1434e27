"""``dbshell``: ``psql`` on the configured database, the embedded one included.

Arguments after ``--`` go to psql (``python -m portal dbshell -- -c 'select 1'``).
The password, if the URL has one, travels in ``PGPASSWORD`` rather than on
the command line, where any user of the machine could read it in ``ps``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from yarl import URL

from portal.platform.commands.base import Command, CommandError, command_settings, database_url

__all__ = ["command", "find_psql", "psql_command"]


def _bundled_psql() -> Path | None:
    """The psql the ``pgserver`` wheel ships beside its server, if installed."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin" / "psql"


def find_psql(*, embedded: bool) -> str:
    """The psql to run; :class:`CommandError` when there is none.

    The embedded server's own psql comes first for it (same version as the
    server); for any other database, the one on ``PATH`` does.
    """
    bundled = _bundled_psql()
    candidates = [str(bundled) if bundled is not None and bundled.is_file() else None]
    on_path = shutil.which("psql")
    candidates = [*candidates, on_path] if embedded else [on_path, *candidates]
    for candidate in candidates:
        if candidate is not None:
            return candidate
    raise CommandError("no psql found: install the PostgreSQL client (psql) and put it on PATH")


def psql_command(psql: str, url: str, extra: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """The command line and the environment additions that run *psql* on *url*."""
    env: dict[str, str] = {}
    if url.startswith(("postgresql://", "postgres://")):
        parsed = URL(url)
        if parsed.password is not None:
            env["PGPASSWORD"] = parsed.password
            url = str(parsed.with_password(None))
    return [psql, url, *extra], env


@contextmanager
def _sigint_to_child() -> Iterator[None]:
    """Leave Ctrl-C to psql (it cancels the running query) instead of dying on it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _dbshell(args: argparse.Namespace) -> int:
    settings = command_settings(args)
    psql = find_psql(embedded=settings.database_url is None)
    argv, env = psql_command(psql, database_url(settings), args.psql_args)
    with _sigint_to_child():
        # argv is psql and the user's own arguments, run without a shell.
        return subprocess.run(argv, env={**os.environ, **env}, check=False).returncode  # noqa: S603


def _arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "psql_args", nargs="*", metavar="-- PSQL_ARGS", help="arguments for psql, after --"
    )


command = Command("dbshell", "run psql on the configured database", _dbshell, _arguments)
