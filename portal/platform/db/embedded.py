"""The embedded PostgreSQL: a private server from the ``pgserver`` wheel.

Used whenever no database URL is configured. The server keeps running after
the process that started it exits, so ``adev``'s reloads (and the CLI commands
``make run`` chains) reuse it instead of paying a database start each time;
``python -m portal db stop`` stops it. ``python -m portal run`` is the exception:
it stops the server at exit when it was the one that started it
(:func:`ensure_running` says which).
"""

from __future__ import annotations

import atexit
import fcntl
import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
from psycopg2 import sql

__all__ = ["DATABASE_NAME", "EmbeddedServer", "ensure_database", "ensure_running", "start", "stop"]

log = logging.getLogger(__name__)

#: The database portal keeps its tables in, inside the embedded server.
DATABASE_NAME = "portal"


def _pgserver() -> Any:
    # platformdirs warns at import time when XDG_RUNTIME_DIR is unset (as it is
    # for root on a server); pgserver then uses /tmp, which is what we want.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import pgserver

    return pgserver


@dataclass(frozen=True, slots=True)
class EmbeddedServer:
    """A running embedded server, as :func:`ensure_running` found or made it."""

    #: A libpq URL for the database asked for.
    url: str
    #: True when this call started the server; False when it was already running.
    started: bool


def start(data_dir: Path, database: str = DATABASE_NAME) -> str:
    """Start (or attach to) the server whose files live in *data_dir*/postgres.

    Blocking: call it from a thread when an event loop is running. Returns a
    libpq URL for *database*, created when missing.
    """
    return ensure_running(data_dir, database).url


def ensure_running(data_dir: Path, database: str = DATABASE_NAME) -> EmbeddedServer:
    """:func:`start`, also telling whether this call started the server.

    A caller that started it may stop it when done; one that found it running
    leaves it to whoever started it (``make run``, another process).
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir.resolve() / "postgres"
    # Without the lock, two processes starting at once would both see no
    # server before, and both believe they started the one that then runs.
    with _start_lock(data_dir):
        before = _postmaster_pid(pgdata)
        server = _pgserver().get_server(pgdata, cleanup_mode=None)
        started = server.get_pid() != before
    admin_url: str = server.get_uri()
    ensure_database(admin_url, database)
    url: str = server.get_uri(database)
    log.info(
        "embedded PostgreSQL %s in %s", "started" if started else "ready", data_dir / "postgres"
    )
    return EmbeddedServer(url=url, started=started)


@contextmanager
def _start_lock(data_dir: Path) -> Iterator[None]:
    with (data_dir / ".postgres.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _postmaster_pid(pgdata: Path) -> int | None:
    """The pid of the server running on *pgdata*, or None."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None  # a stale file left by a crash
    except PermissionError:
        pass  # alive, owned by another user (pgserver's, when we run as root)
    return pid


def stop(data_dir: Path) -> bool:
    """Stop the embedded server of *data_dir*; False when none was running."""
    pgdata = data_dir.resolve() / "postgres"
    if not (pgdata / "postmaster.pid").exists():
        return False
    pgserver = _pgserver()
    # pg_ctl is built at import time from a factory, so mypy cannot see it.
    from pgserver._commands import pg_ctl  # type: ignore[attr-defined]

    user = "pgserver" if os.geteuid() == 0 else None
    pg_ctl(["-w", "stop"], pgdata=pgdata, user=user)
    # Forget our handle so pgserver's own exit hook does not touch it again.
    handle = pgserver.PostgresServer._instances.pop(pgdata, None)
    if handle is not None:
        atexit.unregister(handle._cleanup)
    return True


def ensure_database(admin_url: str, database: str) -> None:
    """Create *database* on the server behind *admin_url* unless it exists."""
    conn = psycopg2.connect(admin_url)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
            if cur.fetchone() is None:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    finally:
        conn.close()
