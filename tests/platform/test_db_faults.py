"""Database faults: 503 with ``Retry-After``, one log line each, and recovery on its own.

Every fault is real, against the real PostgreSQL: backends are terminated with
``pg_terminate_backend``, the pool is exhausted by holding its one connection,
statements run past a short ``statement_timeout``, and outages come from a
small TCP forwarder put between the site and the server, which refuses
connections, cuts every open one (as a restart does), or lets them die unseen.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import psycopg2
import pytest
import sqlalchemy as sa
import uvloop
from aiohttp import ClientResponse, web
from psycopg2 import sql
from psycopg2.extensions import make_dsn, parse_dsn

from portal.platform.api.problems import PROBLEM_TYPE
from portal.platform.appspec import AppSpec
from portal.platform.db import statements
from portal.platform.db.engine import db_key
from portal.platform.db.faults import cancel_and_wait, describe
from portal.platform.live.events import RESYNC, events_key, publish
from portal.platform.policy import HTML_SITE
from portal.settings import Settings
from portal.testing import Client, MakeClient, log_in
from tests.conftest import INSTALLED_APPS

LAYOUT = '<nav class="site-nav"'
#: Words that would mean a traceback or SQL reached the client.
LEAKS = ("Traceback", "psycopg2", "OperationalError", "SELECT", "pg_sleep", ".py")


# A forwarder the test can break


class _Link:
    """One client connection and its connection to the server."""

    def __init__(self, client: asyncio.StreamWriter, server: asyncio.StreamWriter) -> None:
        self.client = client
        self.server = server
        self.stale = False

    def close(self) -> None:
        self.client.close()
        self.server.close()

    def go_stale(self) -> None:
        # The server side is gone; the client is told nothing until it sends.
        self.stale = True
        self.server.close()

    async def pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                if self.stale:
                    self.client.transport.abort()
                    return
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            if not self.stale:
                self.close()


class Forwarder:
    """A port on 127.0.0.1 in front of the test PostgreSQL, broken on demand.

    :meth:`down`: nothing listens (connections are refused) and open ones are
    cut; :meth:`cut`: every open connection is closed at both ends, as a
    server restart does; :meth:`stale`: every open connection dies without
    the client being told, as behind a dropped NAT entry. With
    :attr:`cut_on_connect`, the next new connection cuts the open ones as it arrives.
    """

    def __init__(self, database_url: str) -> None:
        params = parse_dsn(database_url)
        host = params.get("host") or "localhost"
        port = int(params.get("port") or 5432)
        self._unix = f"{host}/.s.PGSQL.{port}" if host.startswith("/") else None
        self._tcp = (host, port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.cut_on_connect = False

    def url(self, database_url: str) -> str:
        """*database_url* reached through this forwarder."""
        dsn: str = make_dsn(database_url, host="127.0.0.1", port=str(self.port))
        return dsn

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self.cut()

    def cut(self) -> None:
        for link in list(self._links):
            link.close()

    def stale(self) -> None:
        for link in list(self._links):
            link.go_stale()

    async def close(self) -> None:
        await self.down()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._unix is not None:
            return await asyncio.open_unix_connection(self._unix)
        return await asyncio.open_connection(*self._tcp)

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if self.cut_on_connect:
            self.cut_on_connect = False
            self.cut()
        try:
            server_r, server_w = await self._open()
        except OSError:
            client_w.close()
            return
        link = _Link(client_w, server_w)
        self._links.add(link)
        try:
            await asyncio.gather(link.pump(client_r, server_w), link.pump(server_r, client_w))
        finally:
            self._links.discard(link)
            link.close()


@pytest.fixture
async def forwarder(clean_db: str) -> AsyncIterator[Forwarder]:
    """A forwarder to the test database, up."""
    forwarder = Forwarder(clean_db)
    await forwarder.up()
    try:
        yield forwarder
    finally:
        await forwarder.close()


# A test-only app with a slow query


async def _sleep(request: web.Request) -> web.Response:
    seconds = float(request.query.get("seconds", "0"))
    async with request.config_dict[db_key].acquire() as conn:
        await conn.execute(sa.select(sa.func.pg_sleep(seconds)))
    return web.Response(text="slept")


def _build_faulty(settings: Settings) -> web.Application:
    app = web.Application()
    app.router.add_get("/", _sleep, name="index")
    return app


FAULTY = AppSpec(
    name="faulty",
    title="Faulty",
    description="A test app whose page runs pg_sleep.",
    factory=_build_faulty,
    policy=HTML_SITE,
)


def site_settings(settings: Settings, **changes: Any) -> Settings:
    """*settings* with the test app mounted (validation only knows the real apps)."""
    return dataclasses.replace(settings, apps={**settings.apps, "faulty": "/faulty/"}, **changes)


async def start(make_client: MakeClient, settings: Settings, **changes: Any) -> Client:
    return await make_client(site_settings(settings, **changes), apps=[*INSTALLED_APPS, FAULTY])


# Helpers


def run_sql(url: str, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement, params)
            return list(cur.fetchall()) if cur.description else []
    finally:
        conn.close()


def terminate_other_backends(url: str) -> list[int]:
    """Terminate every other backend of *url*'s database; their pids."""
    rows = run_sql(
        url,
        "SELECT pid FROM pg_stat_activity, pg_terminate_backend(pid) "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    return [int(row[0]) for row in rows]


async def until_gone(url: str, pids: list[int], within: float = 3.0) -> None:
    """Wait until the backends *pids* have exited (a terminated one takes a moment)."""
    deadline = time.monotonic() + within
    while run_sql(url, "SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,)):
        if time.monotonic() > deadline:
            raise AssertionError(f"backends {pids} still there after {within} s")
        await asyncio.sleep(0.02)


async def until_running(url: str, fragment: str, within: float = 3.0) -> None:
    """Wait until a backend is running a statement containing *fragment*."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        rows = run_sql(
            url,
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
            "AND query LIKE %s AND pid <> pg_backend_pid()",
            (f"%{fragment}%",),
        )
        if rows[0][0]:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"no backend ran {fragment!r} within {within} s")


async def assert_503_page(response: ClientResponse) -> str:
    body = await response.text()
    assert response.status == 503
    assert response.headers["Retry-After"] == "2"
    assert response.content_type == "text/html"
    assert LAYOUT in body
    for leak in LEAKS:
        assert leak not in body
    return body


async def assert_503_problem(response: ClientResponse) -> dict[str, Any]:
    body = await response.text()
    assert response.status == 503
    assert response.headers["Retry-After"] == "2"
    assert response.content_type == PROBLEM_TYPE
    for leak in LEAKS:
        assert leak not in body
    problem: dict[str, Any] = await response.json(content_type=PROBLEM_TYPE)
    assert problem["status"] == 503
    return problem


def unavailable_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "database unavailable" in r.getMessage()]


# Connection refused


async def test_a_page_whose_database_refuses_connections_is_a_503_page(
    make_client: MakeClient, settings: Settings, forwarder: Forwarder, clean_db: str
) -> None:
    client = await start(make_client, settings, database_url=forwarder.url(clean_db))
    await forwarder.down()

    await assert_503_page(await client.get("/polls/"))


async def test_an_api_call_whose_database_refuses_connections_is_a_503_problem(
    make_client: MakeClient, settings: Settings, forwarder: Forwarder, clean_db: str
) -> None:
    client = await start(make_client, settings, database_url=forwarder.url(clean_db))
    await forwarder.down()

    problem = await assert_503_problem(await client.get("/api/todos/"))

    assert problem["title"] == "Service Unavailable"


async def test_each_database_failure_is_one_warning_line_without_traceback(
    make_client: MakeClient,
    settings: Settings,
    forwarder: Forwarder,
    clean_db: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = await start(make_client, settings, database_url=forwarder.url(clean_db))
    await forwarder.down()
    caplog.clear()

    for path in ("/polls/", "/api/todos/", "/todos/"):
        assert (await client.get(path)).status == 503

    lines = unavailable_lines(caplog)
    assert len(lines) == 3
    assert all(r.levelno == logging.WARNING and r.exc_info is None for r in lines)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_the_error_page_of_a_logged_in_user_needs_no_database(
    make_client: MakeClient,
    settings: Settings,
    forwarder: Forwarder,
    clean_db: str,
    user: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = await start(make_client, settings, database_url=forwarder.url(clean_db))
    assert (await log_in(client, "alice")).status == 303
    await forwarder.down()

    await assert_503_page(await client.get("/polls/"))

    assert not [r for r in caplog.records if "could not render" in r.getMessage()]


# Terminated backends


async def test_a_query_whose_backend_is_terminated_is_a_503(
    make_client: MakeClient, settings: Settings, clean_db: str
) -> None:
    client = await start(make_client, settings)
    pending = asyncio.ensure_future(client.get("/faulty/?seconds=5"))
    await until_running(clean_db, "pg_sleep")

    terminate_other_backends(clean_db)

    await assert_503_page(await pending)


async def test_the_site_serves_at_once_after_every_backend_was_terminated(
    make_client: MakeClient, settings: Settings, clean_db: str
) -> None:
    client = await start(make_client, settings, db_pool_min=3, db_pool_max=3)
    assert (await client.get("/polls/")).status == 200

    statuses = []
    for _ in range(3):  # the pool refilling while connections die is a race: try it thrice
        await until_gone(clean_db, terminate_other_backends(clean_db))
        statuses += [(await client.get("/polls/")).status for _ in range(5)]

    assert statuses == [200] * 15


async def test_backends_terminated_under_load_give_503s_never_a_500(
    make_client: MakeClient, settings: Settings, clean_db: str
) -> None:
    client = await start(make_client, settings, db_pool_min=3, db_pool_max=5)
    statuses: list[int] = []
    stop = asyncio.Event()

    async def keep_asking() -> None:
        while not stop.is_set():
            statuses.append((await client.get("/polls/")).status)

    askers = [asyncio.create_task(keep_asking()) for _ in range(8)]
    for _ in range(5):
        await asyncio.sleep(0.1)
        terminate_other_backends(clean_db)
    await asyncio.sleep(0.1)
    stop.set()
    await asyncio.gather(*askers)

    assert set(statuses) <= {200, 503}
    assert (await client.get("/polls/")).status == 200


# An exhausted pool


async def test_no_connection_free_within_the_acquire_timeout_is_a_quick_503(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await start(make_client, settings, db_pool_max=1, db_acquire_timeout=0.2)
    # On a loaded machine start-up's own first connection may take longer than
    # 0.2 s, and the site then starts "unreachable" until its probe gets through.
    await _until_ready(client, within=15.0)
    async with client.app[db_key].acquire():
        started = time.monotonic()
        response = await client.get("/api/todos/")
        elapsed = time.monotonic() - started

    await assert_503_problem(response)
    assert 0.2 <= elapsed < 1.5
    assert (await client.get("/api/todos/")).status == 200


# Statement timeout


async def test_a_statement_past_the_statement_timeout_is_a_503(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await start(make_client, settings, db_statement_timeout=0.2)
    started = time.monotonic()

    await assert_503_page(await client.get("/faulty/?seconds=5"))

    assert time.monotonic() - started < 2


async def test_a_statement_timeout_is_logged_once_without_traceback(
    make_client: MakeClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    client = await start(make_client, settings, db_statement_timeout=0.2)
    caplog.clear()

    await client.get("/faulty/?seconds=5")

    (line,) = unavailable_lines(caplog)
    assert "statement_timeout" in line.getMessage()
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_the_connection_serves_again_after_a_statement_timeout(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await start(make_client, settings, db_pool_max=1, db_statement_timeout=0.2)
    await client.get("/faulty/?seconds=5")

    response = await client.get("/faulty/?seconds=0")

    assert response.status == 200


async def test_the_statement_timeout_leaves_other_statements_alone(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await start(make_client, settings, db_statement_timeout=1.0)

    response = await client.get("/faulty/?seconds=0.3")

    assert response.status == 200


# Restarts and outages


async def test_no_request_fails_after_a_restart_that_is_over(
    make_client: MakeClient, settings: Settings, forwarder: Forwarder, clean_db: str
) -> None:
    client = await start(
        make_client, settings, database_url=forwarder.url(clean_db), db_pool_min=3, db_pool_max=3
    )
    assert (await client.get("/polls/")).status == 200

    forwarder.cut()  # every pooled connection closed by the server side
    statuses = [(await client.get("/polls/")).status for _ in range(5)]

    assert statuses == [200] * 5


async def test_one_dead_connection_found_drops_the_other_idle_ones(
    make_client: MakeClient, settings: Settings, forwarder: Forwarder, clean_db: str
) -> None:
    client = await start(
        make_client, settings, database_url=forwarder.url(clean_db), db_pool_min=3, db_pool_max=3
    )
    assert client.app[db_key].freesize == 3

    forwarder.stale()  # all three dead, and the client not told
    first = await client.get("/polls/")
    then = [(await client.get("/polls/")).status for _ in range(3)]

    await assert_503_page(first)
    assert then == [200, 200, 200]


async def test_connections_that_die_while_the_pool_refills_are_skipped(
    make_client: MakeClient, settings: Settings, forwarder: Forwarder, clean_db: str
) -> None:
    # aiopg's pool checks its idle connections, then makes a new one to reach
    # minsize, then hands out an idle one without checking again.
    client = await start(
        make_client, settings, database_url=forwarder.url(clean_db), db_pool_min=3, db_pool_max=3
    )
    one = client.app[db_key]._pool._free[-1].raw.info.backend_pid
    run_sql(clean_db, "SELECT pg_terminate_backend(%s)", (one,))
    await until_gone(clean_db, [one])  # the pool is one short, and knows it
    forwarder.cut_on_connect = True  # the other two die while the new one connects

    response = await client.get("/polls/")

    assert response.status == 200


async def test_the_site_serves_again_within_two_seconds_of_the_database_returning(
    make_client: MakeClient, settings: Settings, forwarder: Forwarder, clean_db: str
) -> None:
    client = await start(make_client, settings, database_url=forwarder.url(clean_db))
    await forwarder.down()
    assert (await client.get("/polls/")).status == 503

    await forwarder.up()
    back = time.monotonic()
    statuses = [(await client.get("/polls/")).status for _ in range(10)]

    assert statuses == [200] * 10
    assert time.monotonic() - back < 2


def test_refused_connections_leave_uvloop_able_to_connect_again(
    clean_db: str, unused_tcp_port: int
) -> None:
    # ``python -m portal run`` serves on uvloop, where a refused attempt used
    # to leave a dead handle behind for its file descriptor's number: the
    # next connection given that number failed with a RuntimeError.
    refused = make_dsn(clean_db, host="127.0.0.1", port=str(unused_tcp_port))

    async def outages() -> list[str]:
        down: Any = statements.new_engine(refused, minsize=0, maxsize=1)
        up: Any = statements.new_engine(clean_db, minsize=0, maxsize=1)
        failures: list[str] = []
        try:
            for _ in range(50):
                with contextlib.suppress(psycopg2.OperationalError):
                    async with down.acquire():
                        pass
                try:
                    async with up.acquire() as conn:
                        await conn.scalar(sa.select(sa.literal(1)))
                except Exception as exc:
                    failures.append(describe(exc))
                up.drop_idle()  # the next round connects afresh
        finally:
            for engine in (down, up):
                engine.close()
                await engine.wait_closed()
        return failures

    assert uvloop.run(outages()) == []


async def test_the_event_listener_comes_back_after_an_outage_and_resynchronises(
    make_client: MakeClient, settings: Settings, forwarder: Forwarder, clean_db: str, conn: Any
) -> None:
    client = await start(make_client, settings, database_url=forwarder.url(clean_db))
    bus = client.app[events_key]
    with bus.subscribe("test.") as subscription:
        await forwarder.down()
        await asyncio.sleep(0.5)  # a few failed attempts to reconnect
        await forwarder.up()

        assert await asyncio.wait_for(subscription.get(), 5) is RESYNC
        await publish(conn, "test.after", {})
        assert (await asyncio.wait_for(subscription.get(), 2)).topic == "test.after"


# Starting while the database is down


async def test_the_site_starts_quickly_while_its_database_is_down(
    make_client: MakeClient, settings: Settings, forwarder: Forwarder, clean_db: str
) -> None:
    await forwarder.down()
    started = time.monotonic()

    client = await start(make_client, settings, database_url=forwarder.url(clean_db))

    assert time.monotonic() - started < 2
    assert (await client.get("/healthz")).status == 200


async def test_a_site_waiting_for_its_database_stops_promptly(
    make_client: MakeClient, settings: Settings, forwarder: Forwarder, clean_db: str
) -> None:
    await forwarder.down()
    client = await start(make_client, settings, database_url=forwarder.url(clean_db))
    await asyncio.sleep(0.3)  # retrying, as the event listener is
    started = time.monotonic()

    await client.close()

    assert time.monotonic() - started < 2


async def test_a_task_that_lost_its_cancellation_is_stopped_all_the_same() -> None:
    async def stubborn() -> None:
        # As aiopg's wait_for does on Python 3.11 when the server answers
        # just as the cancellation arrives.
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(10)
        await asyncio.sleep(10)

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)

    await asyncio.wait_for(cancel_and_wait(task), 2)

    assert task.cancelled()


async def test_readyz_is_503_unreachable_until_the_database_is_reached(
    make_client: MakeClient, settings: Settings, forwarder: Forwarder, clean_db: str
) -> None:
    await forwarder.down()
    client = await start(make_client, settings, database_url=forwarder.url(clean_db))

    response = await client.get("/readyz")

    assert response.status == 503
    assert await response.json() == {"status": "unavailable", "database": "unreachable"}


async def test_pages_and_api_calls_are_503_before_the_database_is_reached(
    make_client: MakeClient, settings: Settings, forwarder: Forwarder, clean_db: str
) -> None:
    await forwarder.down()
    client = await start(make_client, settings, database_url=forwarder.url(clean_db))

    await assert_503_page(await client.get("/polls/"))
    await assert_503_problem(await client.get("/api/todos/"))


async def _until_ready(client: Client, within: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        response = await client.get("/readyz")
        body: dict[str, Any] = await response.json()
        if response.status == 200 or body["database"] != "unreachable":
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"/readyz still says {body} after {within} s")
        await asyncio.sleep(0.05)


async def test_the_site_serves_once_its_database_comes_up(
    make_client: MakeClient, settings: Settings, forwarder: Forwarder, clean_db: str
) -> None:
    await forwarder.down()
    client = await start(make_client, settings, database_url=forwarder.url(clean_db))

    await forwarder.up()

    assert await _until_ready(client) == {"status": "ready", "database": "ok"}
    assert (await client.get("/polls/")).status == 200


async def test_waiting_for_the_database_logs_one_line_when_down_and_one_when_reached(
    make_client: MakeClient,
    settings: Settings,
    forwarder: Forwarder,
    clean_db: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="portal.platform.db.engine")
    await forwarder.down()
    client = await start(make_client, settings, database_url=forwarder.url(clean_db))
    await asyncio.sleep(0.6)  # a few retries, which stay quiet
    await forwarder.up()
    await _until_ready(client)

    lines = [
        r
        for r in caplog.records
        if r.name == "portal.platform.db.engine" and r.levelno >= logging.INFO
    ]
    assert [(r.levelno, r.getMessage().split(" (")[0]) for r in lines] == [
        (logging.WARNING, "cannot reach the database"),
        (logging.INFO, "the database answers and its schema is up to date: serving requests"),
    ]


@pytest.fixture
def unmigrated_database(database_url: str) -> Iterator[str]:
    """The URL of a new, empty database on the test server; dropped afterwards."""
    name = f"portal_unmigrated_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(database_url)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        dsn: str = make_dsn(database_url, dbname=name)
        yield dsn
        with admin.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
    finally:
        admin.close()


async def test_a_stale_schema_found_once_the_database_is_up_keeps_the_site_unready(
    make_client: MakeClient,
    settings: Settings,
    forwarder: Forwarder,
    unmigrated_database: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await forwarder.down()
    client = await start(make_client, settings, database_url=forwarder.url(unmigrated_database))

    await forwarder.up()

    assert await _until_ready(client) == {
        "status": "unavailable",
        "database": "schema not up to date",
    }
    await assert_503_page(await client.get("/polls/"))
    (line,) = [r for r in caplog.records if "python -m portal migrate" in r.getMessage()]
    assert line.levelno == logging.ERROR
