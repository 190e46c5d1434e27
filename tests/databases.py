"""Plain looks at a database for tests: a statement's rows, its tables, its revisions.

And a database of a test's own on the session's server, dropped afterwards.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
from psycopg2 import sql


def query(url: str, statement: str) -> list[tuple[object, ...]]:
    """The rows of *statement* (none for a statement that returns none), autocommitted."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
            return list(cur.fetchall()) if cur.description else []
    finally:
        conn.close()


def public_tables(url: str) -> set[str]:
    """The names of the tables in the database's public schema."""
    rows = query(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {str(row[0]) for row in rows}


def revisions(url: str) -> set[str]:
    """The Alembic revisions the database is at."""
    return {str(row[0]) for row in query(url, "SELECT version_num FROM alembic_version")}


@contextmanager
def scratch_database(server_url: str, prefix: str) -> Iterator[str]:
    """The URL of a new, empty database beside *server_url*'s; dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(server_url)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        yield urlsplit(server_url)._replace(path=f"/{name}").geturl()
        with admin.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
    finally:
        admin.close()


@contextmanager
def private_data_dir(prefix: str) -> Iterator[Path]:
    """A new folder for an embedded PostgreSQL of a test's own; removed afterwards.

    Not under pytest's temp folder: as root, pgserver runs initdb as its own
    user and opens the parent folders to it, and another pytest session
    starting meanwhile resets those folders to 0700 mid-initdb.
    """
    data_dir = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield data_dir
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
