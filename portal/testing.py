"""portal's test kit: the pytest plugin an app's tests use.

Load it from the project's top ``conftest.py``::

    pytest_plugins = ("portal.testing",)

and an app's tests get, with no import from the project's own ``tests/``:

- ``database_url`` — one throwaway embedded PostgreSQL per test session (per
  worker under ``pytest -n``), migrated for every installed app; with
  ``PORTAL_TEST_DATABASE_URL`` set, a database on that server instead;
- ``clean_db`` — that database, emptied of every row before the test;
- ``settings`` — production-like settings (debug off) over it;
- ``client`` — a test client over the whole tree, built by the real factory;
  ``make_client`` builds one with other settings or apps;
- ``conn`` — a :class:`~portal.appkit.Connection` for arranging and checking rows;
- ``user`` / ``staff_user`` — ``alice`` and the staff user ``admin``, both
  with the password :data:`PASSWORD`;
- ``api_token`` — a write API token for ``user`` (the secret); send it with
  :func:`bearer`; ``read_token`` — a read-scoped one (GET operations only);
- :func:`log_in` and :func:`csrf_token` — the real login form, and the CSRF
  token a page's form carries, for posting forms as a browser does.

Passwords are hashed with cheap argon2 parameters (the servers a test starts
inherit them); a test measuring a real hash asks for ``real_password_hashing``.

Browser tests are never skipped silently: every test using a ``browser``
fixture is marked ``browser``; when any of them is skipped (no Chromium) the
summary ends with one loud line saying so, and with
``PORTAL_REQUIRE_BROWSER=1`` (as ``.ci/run`` sets) the run fails.
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
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient
from psycopg2 import sql
from pytest_aiohttp import AiohttpClient
from yarl import URL

from portal.platform.appspec import AppSpec
from portal.platform.auth import passwords
from portal.platform.auth.passwords import FAST_HASHING_ENV
from portal.platform.auth.tokens import create_token
from portal.platform.auth.users import User, create_user
from portal.platform.db import embedded
from portal.platform.db.engine import Connection, connect
from portal.platform.db.schema import upgrade
from portal.platform.installed import load_apps
from portal.platform.lifecycle import QUICK_FREEZE_ENV
from portal.platform.root import build_site
from portal.settings import Settings

__all__ = [
    "PASSWORD",
    "REQUIRE_BROWSER_ENV",
    "TEST_DATABASE",
    "TEST_SECRET",
    "Client",
    "MakeClient",
    "bearer",
    "csrf_token",
    "log_in",
    "migrated_database",
    "truncate_all",
]

# Cheap argon2 parameters for every user a test suite creates and logs in
# (minutes of hashing otherwise), as Django's tests swap in a fast hasher.
os.environ.setdefault(FAST_HASHING_ENV, "1")
# And no full collection of the whole test session at every site's start-up.
os.environ.setdefault(QUICK_FREEZE_ENV, "1")

#: The secret key of the test settings.
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"  # noqa: S105 (tests only)
#: The database the session's embedded server holds.
TEST_DATABASE = "portal_test"
#: The password of the ``user`` and ``staff_user`` fixtures.
PASSWORD = "correct horse battery"  # noqa: S105 (tests only)

#: A test client over the whole tree.
Client = TestClient[web.Request, web.Application]
#: ``make_client(settings=…, apps=…)``: a client over a tree built with those.
MakeClient = Callable[..., Awaitable[Client]]

_CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def migrated_database(server_url: str, name: str, apps: Sequence[AppSpec] | None = None) -> str:
    """A database *name* beside *server_url*'s, created and migrated if needed; its URL."""
    embedded.ensure_database(server_url, name)
    # with_path() clears the query, which holds the server's socket folder.
    source = URL(server_url)
    url = str(source.with_path(f"/{name}").with_query(source.query))
    upgrade(url, load_apps(Settings()) if apps is None else apps)
    return url


def truncate_all(url: str) -> None:
    """Empty every table but Alembic's, restarting the id sequences.

    Only the tables holding rows are truncated, and only the sequences handed a
    value reset: most tests touch two or three tables, and a ``TRUNCATE`` costs
    new files for each table it names, empty or not.
    """
    conn = psycopg2.connect(url)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(
                "SELECT tablename FROM pg_tables "
                "WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
            tables = [sql.Identifier(row[0]) for row in cur.fetchall()]
            if not tables:
                return
            exists = sql.SQL("EXISTS (SELECT FROM {})")
            cur.execute(sql.SQL("SELECT {}").format(sql.SQL(", ").join(map(exists.format, tables))))
            filled = [table for table, rows in zip(tables, cur.fetchone(), strict=True) if rows]
            if filled:
                cur.execute(sql.SQL("TRUNCATE {} CASCADE").format(sql.SQL(", ").join(filled)))
            # A sequence that has handed out no value since its start shows none.
            cur.execute(
                "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, "
                "start_value, false) FROM pg_sequences "
                "WHERE schemaname = 'public' AND last_value IS NOT NULL"
            )
    finally:
        conn.close()


async def csrf_token(client: Client, path: str = "/login") -> str:
    """The session's CSRF token, read from the form the page at *path* renders."""
    response = await client.get(path)
    match = _CSRF_INPUT.search(await response.text())
    if match is None:
        pytest.fail(f"no CSRF field on {path}")
    return match.group(1)


async def log_in(client: Client, username: str, password: str = PASSWORD) -> ClientResponse:
    """Log *username* in through the real login form; returns the POST's response."""
    token = await csrf_token(client)
    return await client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        allow_redirects=False,
    )


def bearer(secret: str) -> dict[str, str]:
    """The ``Authorization`` header that presents API token *secret*."""
    return {"Authorization": f"Bearer {secret}"}


#: Set to 1 to make a run with any skipped browser test fail (``.ci/run`` does).
REQUIRE_BROWSER_ENV = "PORTAL_REQUIRE_BROWSER"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: end-to-end tests in headless Chromium")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


def _skipped_browser_tests(config: pytest.Config) -> list[pytest.TestReport]:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return []
    return [
        report
        for report in reporter.stats.get("skipped", [])
        if "browser" in getattr(report, "keywords", {})
    ]


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if (
        os.environ.get(REQUIRE_BROWSER_ENV) == "1"
        and exitstatus == pytest.ExitCode.OK
        and _skipped_browser_tests(session.config)
    ):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    skipped = _skipped_browser_tests(config)
    if not skipped:
        return
    line = (
        f"BROWSER TESTS SKIPPED: {len(skipped)} browser test(s) did not run, so no page "
        f"was checked in a browser ({_skip_reason(skipped[0])})"
    )
    if os.environ.get(REQUIRE_BROWSER_ENV) == "1":
        line += f"; {REQUIRE_BROWSER_ENV}=1, so the run fails"
    terminalreporter.write_line(line, red=True, bold=True)


def _worker(config: pytest.Config) -> str:
    """``gw0``, ``gw1`` … under pytest-xdist; ``master`` otherwise."""
    workerinput: dict[str, Any] = getattr(config, "workerinput", {})
    return str(workerinput.get("workerid", "master"))


@pytest.fixture(scope="session")
def installed_apps() -> tuple[AppSpec, ...]:
    """The apps the default settings install: what the test database is migrated for."""
    return load_apps(Settings())


@pytest.fixture(scope="session")
def database_url(pytestconfig: pytest.Config, installed_apps: tuple[AppSpec, ...]) -> Iterator[str]:
    """A migrated database on a throwaway embedded PostgreSQL, for the whole session.

    Under ``pytest -n`` each worker process is a session of its own, with its
    own server; on an external server (``PORTAL_TEST_DATABASE_URL``) each worker
    gets its own database beside the one named (``…_gw0``, ``…_gw1``): never
    point it at real data, its tables are emptied between tests.
    """
    worker = _worker(pytestconfig)
    external = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if external:
        if worker != "master":
            name = URL(external).path.strip("/") or TEST_DATABASE
            yield migrated_database(external, f"{name}_{worker}", installed_apps)
            return
        upgrade(external, installed_apps)
        yield external
        return
    # Not under pytest's own temp folder: as root, pgserver runs initdb as its
    # own user and opens the parent folders to it, and a second pytest session
    # starting meanwhile would reset those folders to 0700 mid-initdb.
    data_dir = Path(tempfile.mkdtemp(prefix="portal-test-pg-"))
    try:
        url = embedded.start(data_dir, TEST_DATABASE)
        _without_durability(url)
        upgrade(url, installed_apps)
        yield url
    finally:
        embedded.stop(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


def _without_durability(url: str) -> None:
    """Commits that wait for no disk flush, on a server thrown away after the session.

    A test commits (and empties its tables) many times: waiting for each flush
    is most of what those cost. Only a crash of the machine could lose data,
    and the data is thrown away anyway.
    """
    conn = psycopg2.connect(url)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            for setting in ("fsync", "synchronous_commit", "full_page_writes"):
                cur.execute(f"ALTER SYSTEM SET {setting} = off")
            cur.execute("SELECT pg_reload_conf()")
    finally:
        conn.close()


@pytest.fixture
def clean_db(database_url: str) -> str:
    """The session's database, emptied of every row before this test."""
    truncate_all(database_url)
    return database_url


@pytest.fixture
def settings(clean_db: str, tmp_path: Path) -> Settings:
    """Production-like test settings (debug off) over the clean database.

    The API rate limit is off: a test's client is one address, and many tests
    make more requests than a real client would; a test about the limit turns
    it on (``settings.with_overrides(api_rate_limit="5/minute")``).
    """
    return Settings(
        debug=False,
        database_url=clean_db,
        data_dir=tmp_path / "data",
        secret_key=TEST_SECRET,
        api_rate_limit="off",
    )


@pytest.fixture
def make_client(
    aiohttp_client: AiohttpClient, settings: Settings, installed_apps: tuple[AppSpec, ...]
) -> MakeClient:
    """Build the whole tree through the real factory and serve it to a test client.

    ``make_client(settings, apps=…)``; with ``apps=None`` the apps are those
    *settings* install.
    """

    async def make(
        settings: Settings = settings, apps: Sequence[AppSpec] | None = installed_apps, **kw: Any
    ) -> Client:
        return await aiohttp_client(build_site(settings, apps), **kw)

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
async def conn(clean_db: str) -> AsyncIterator[Connection]:
    """A connection to the clean database, for arranging and checking rows."""
    async with connect(clean_db) as connection:
        yield connection


@pytest.fixture
async def staff_user(conn: Connection) -> User:
    """A staff user ``admin`` with password :data:`PASSWORD`."""
    return await create_user(conn, "admin", PASSWORD, is_staff=True)


@pytest.fixture
async def user(conn: Connection) -> User:
    """An ordinary user ``alice`` with password :data:`PASSWORD`."""
    return await create_user(conn, "alice", PASSWORD)


@pytest.fixture
async def api_token(conn: Connection, user: User) -> str:
    """A write API token for ``user``: the secret, for :func:`bearer`."""
    _, secret = await create_token(conn, user.id)
    return secret


@pytest.fixture
async def read_token(conn: Connection, user: User) -> str:
    """A read API token for ``user`` (GET operations only): the secret, for :func:`bearer`."""
    _, secret = await create_token(conn, user.id, "read", scope="read")
    return secret
