"""Shared fixtures: one embedded PostgreSQL per test session, a clean database
per test, and clients over the full app tree built fresh by the real factory.

Set ``PORTAL_TEST_DATABASE_URL`` to run against another PostgreSQL instead (its
database is migrated and emptied between tests: never point it at real data).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient
from yarl import URL

from portal.main import create_app
from portal.platform import embedded
from portal.platform.auth import passwords
from portal.platform.auth.passwords import FAST_HASHING_ENV
from portal.platform.auth.users import User, create_user
from portal.platform.db import connect
from portal.platform.installed import load_apps
from portal.platform.migrations import upgrade
from portal.platform.registry import AppSpec
from portal.settings import Settings

#: The apps the default settings install (the project's list), for the tests that
#: mount them alongside apps of their own or migrate their tables.
INSTALLED_APPS = load_apps(Settings())

# Cheap argon2 parameters for every user the suite creates and logs in (minutes
# of hashing otherwise), as Django's tests swap in a fast hasher; the servers
# the suite starts inherit it. Tests that measure a hash ask for
# ``real_password_hashing``.
os.environ.setdefault(FAST_HASHING_ENV, "1")

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
TEST_DATABASE = "portal_test"
PASSWORD = "correct horse battery"

MakeClient = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]
Client = TestClient[web.Request, web.Application]


@pytest.fixture(scope="session")
def database_url(worker_id: str) -> Iterator[str]:
    """A migrated database on a throwaway embedded PostgreSQL, for the whole session.

    Under ``pytest -n`` (as ``make test`` runs) each worker process is a
    session of its own, with its own server; on an external server each
    worker gets its own database beside the one named (``…_gw0``, ``…_gw1``).
    """
    external = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if external:
        if worker_id != "master":
            from tests.servers import migrated_database

            name = URL(external).path.strip("/") or TEST_DATABASE
            yield migrated_database(external, f"{name}_{worker_id}")
            return
        upgrade(external, INSTALLED_APPS)
        yield external
        return
    # Not under pytest's own temp folder: as root, pgserver runs initdb as its
    # own user and opens the parent folders to it, and a second pytest session
    # starting meanwhile would reset those folders to 0700 mid-initdb.
    data_dir = Path(tempfile.mkdtemp(prefix="portal-test-pg-"))
    try:
        url = embedded.start(data_dir, TEST_DATABASE)
        upgrade(url, INSTALLED_APPS)
        yield url
    finally:
        embedded.stop(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


def truncate_all(url: str) -> None:
    """Empty every table but Alembic's, restarting the id sequences."""
    conn = psycopg2.connect(url)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(
                "SELECT quote_ident(tablename) FROM pg_tables "
                "WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
            tables = [row[0] for row in cur.fetchall()]
            if tables:
                # Names come from the catalogue and are quoted by quote_ident.
                cur.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    finally:
        conn.close()


@pytest.fixture
def clean_db(database_url: str) -> str:
    """The session's database, emptied of every row before this test."""
    truncate_all(database_url)
    return database_url


@pytest.fixture
def settings(clean_db: str, tmp_path: Path) -> Settings:
    """Production-like test settings (debug off) over the clean database."""
    return Settings(
        debug=False, database_url=clean_db, data_dir=tmp_path / "data", secret_key=TEST_SECRET
    )


@pytest.fixture
def make_client(aiohttp_client: AiohttpClient, settings: Settings) -> MakeClient:
    """Build the whole site through ``create_app`` and serve it to a test client.

    With ``apps=None`` the apps are those *settings* install.
    """

    async def make(
        settings: Settings = settings, apps: Sequence[AppSpec] | None = INSTALLED_APPS, **kw: Any
    ) -> Client:
        return await aiohttp_client(create_app(settings, apps=apps), **kw)

    return make


@pytest.fixture
async def client(make_client: MakeClient) -> Client:
    """A client over the whole site with the test settings."""
    return await make_client()


@pytest.fixture
def real_password_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """argon2id at its production cost, for a test whose point is what a hash costs.

    Ask for it before any fixture that creates a user: a hash keeps the cost
    it was made with.
    """
    monkeypatch.delenv(FAST_HASHING_ENV, raising=False)
    passwords.hasher.cache_clear()
    yield
    passwords.hasher.cache_clear()


@pytest.fixture
async def conn(clean_db: str) -> AsyncIterator[Any]:
    """An ``aiopg.sa`` connection to the clean database, for arranging and checking rows."""
    async with connect(clean_db) as connection:
        yield connection


@pytest.fixture
async def staff_user(conn: Any) -> User:
    """A staff user ``admin`` with password :data:`PASSWORD`."""
    return await create_user(conn, "admin", PASSWORD, is_staff=True)


@pytest.fixture
async def user(conn: Any) -> User:
    """An ordinary user ``alice`` with password :data:`PASSWORD`."""
    return await create_user(conn, "alice", PASSWORD)


_CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


async def csrf_token(client: Client, path: str = "/login") -> str:
    """The session's CSRF token, read from the form a page renders."""
    response = await client.get(path)
    match = _CSRF_INPUT.search(await response.text())
    assert match, f"no CSRF field on {path}"
    return match.group(1)


async def log_in(client: Client, username: str, password: str = PASSWORD) -> Any:
    """Log *username* in through the real login form; returns the POST response."""
    token = await csrf_token(client)
    return await client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        allow_redirects=False,
    )
