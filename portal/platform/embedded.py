"""The embedded PostgreSQL: a private server from the ``pgserver`` wheel.

Used whenever no database URL is configured. The server keeps running after
the process that started it exits, so ``adev``'s reloads (and the CLI commands
``make run`` chains) reuse it instead of paying a database start each time;
``python -m portal db stop`` stops it.
"""

from __future__ import annotations

import atexit
import logging
import os
import warnings
from pathlib import Path
from typing import Any

import psycopg2
from psycopg2 import sql

__all__ = ["DATABASE_NAME", "ensure_database", "start", "stop"]

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


def start(data_dir: Path, database: str = DATABASE_NAME) -> str:
    """Start (or attach to) the server whose files live in *data_dir*/postgres.

    Blocking: call it from a thread when an event loop is running. Returns a
    libpq URL for *database*, created when missing.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    server = _pgserver().get_server(data_dir.resolve() / "postgres", cleanup_mode=None)
    admin_url: str = server.get_uri()
    ensure_database(admin_url, database)
    url: str = server.get_uri(database)
    log.info("embedded PostgreSQL ready in %s", data_dir / "postgres")
    return url


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
