"""The shared PostgreSQL engine and the embedded server, as ``cleanup_ctx`` contexts.

The site starts whether or not PostgreSQL answers. With the database up, a
stale schema stops start-up (:class:`ConfigurationError`), as a migration is
due. With it unreachable, the site starts anyway: the engine refuses every
request (503) and ``/readyz`` says why, while a background task retries with
backoff until the database answers with an up-to-date schema.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final, Protocol

import psycopg2
import sqlalchemy as sa
from aiohttp import web

from portal.platform.appspec import mounts_key
from portal.platform.db import embedded, statements
from portal.platform.db.faults import (
    NO_ANSWER,
    cancel_and_wait,
    describe,
    quiet_statement_cancels,
)
from portal.platform.db.pool import with_application_name
from portal.platform.db.revisions import expected_heads, schema_problem
from portal.platform.exceptions import ConfigurationError
from portal.platform.keys import settings_key

__all__ = [
    "STALE_SCHEMA",
    "UNREACHABLE",
    "Connection",
    "connect",
    "current_revisions",
    "database_url_key",
    "db_key",
    "embedded_postgres_ctx",
    "engine_ctx",
    "ping",
]

#: The URL of the PostgreSQL server, known once the embedded server (if any) runs.
database_url_key = web.AppKey("database_url_key", str)

#: The shared ``aiopg.sa`` engine; opened and closed in the root's ``cleanup_ctx``.
db_key: web.AppKey[Any] = web.AppKey("db_key")


class Connection(Protocol):
    """A connection from the shared engine (``async with engine.acquire() as conn``).

    What every query function takes: the part of ``aiopg.sa``'s connection that
    portal uses, named so that call sites say what they hold (``aiopg.sa``
    itself is unannotated). The engine's connections compile each statement
    once (:mod:`portal.platform.db.statements`) and otherwise behave as its own.
    """

    def execute(self, query: Any, *multiparams: Any, **params: Any) -> Any:
        """Run *query*; await the result for a ``ResultProxy``, or iterate it."""

    async def scalar(self, query: Any, *multiparams: Any, **params: Any) -> Any:
        """Run *query* and return the first column of its first row."""

    def begin(
        self, isolation_level: str | None = None, readonly: bool = False, deferrable: bool = False
    ) -> Any:
        """A transaction: ``async with conn.begin():``."""

    def begin_nested(self) -> Any:
        """A savepoint inside the current transaction."""

    @property
    def closed(self) -> bool:
        """Whether the connection has been closed."""


log = logging.getLogger(__name__)

_alembic_version = sa.table("alembic_version", sa.column("version_num"))

#: ``Engine.unavailable`` (and ``/readyz``) while the database has not answered.
UNREACHABLE: Final = "unreachable"
#: ``Engine.unavailable`` while the database answers with a schema this code cannot use.
STALE_SCHEMA: Final = "schema not up to date"

#: Seconds between attempts to reach the database; the last one repeats, so the
#: site serves within about a second of the database coming up.
_RETRY_DELAYS: Final = (0.25, 0.5, 1.0)
#: One attempt (connect, read the revisions) gives up after this long.
_CHECK_SECONDS: Final = 5.0
#: What an attempt that did not reach the database may raise.
_NOT_REACHED: Final[tuple[type[Exception], ...]] = (*NO_ANSWER, OSError)


async def embedded_postgres_ctx(app: web.Application) -> AsyncIterator[None]:
    """Start (or attach to) the embedded PostgreSQL; it outlives the app on purpose."""
    settings = app[settings_key]
    app[database_url_key] = await asyncio.to_thread(embedded.start, settings.data_dir)
    yield


async def engine_ctx(app: web.Application) -> AsyncIterator[None]:
    """Open the one ``aiopg.sa`` engine every app shares; refuse a stale schema.

    When the database cannot be reached, start anyway and wait for it in a
    background task (see the module docstring), cancelled at cleanup.
    """
    settings = app[settings_key]
    # Any: aiopg.sa's own methods (close, wait_closed) carry no annotations.
    engine: Any = statements.new_engine(
        with_application_name(app[database_url_key], "web"),
        minsize=settings.db_pool_min,
        maxsize=settings.db_pool_max,
        acquire_timeout=settings.db_acquire_timeout,
        statement_timeout=settings.db_statement_timeout,
    )
    expected = expected_heads(mounted.spec for mounted in app[mounts_key])
    waiting: asyncio.Task[None] | None = None
    try:
        with quiet_statement_cancels():
            try:
                problem = await _check_schema(engine, expected)
            except _NOT_REACHED as exc:
                log.warning(
                    "cannot reach the database (%s): starting anyway; requests that need it "
                    "get 503 until it answers",
                    describe(exc),
                )
                engine.unavailable = UNREACHABLE
                waiting = asyncio.create_task(
                    _wait_for_database(engine, expected), name="portal-db-wait"
                )
            else:
                if problem is not None:
                    raise ConfigurationError(problem)
            if settings.debug:
                # Imported here so production never loads it: the SQL panel's tracing.
                from portal.platform.db.tracing import TracingEngine

                app[db_key] = TracingEngine(engine)
            else:
                app[db_key] = engine
            yield
    finally:
        if waiting is not None:
            await cancel_and_wait(waiting)
        engine.close()
        await engine.wait_closed()


async def _check_schema(engine: statements.Engine, expected: set[str]) -> str | None:
    """Why the database cannot serve this code (see ``schema_problem``), or None."""
    async with asyncio.timeout(_CHECK_SECONDS), engine.probe() as conn:
        return schema_problem(await current_revisions(conn), expected)


async def _wait_for_database(engine: statements.Engine, expected: set[str]) -> None:
    """Retry until the database answers with an up-to-date schema, then let requests in."""
    reported: str | None = None
    for attempt in itertools.count():
        await asyncio.sleep(_RETRY_DELAYS[min(attempt, len(_RETRY_DELAYS) - 1)])
        try:
            problem = await _check_schema(engine, expected)
        except _NOT_REACHED as exc:
            # Said once at start-up; every retry would be noise.
            log.debug("the database is still unreachable (%s)", describe(exc))
            engine.unavailable = UNREACHABLE
            continue
        if problem is None:
            engine.unavailable = None
            log.info("the database answers and its schema is up to date: serving requests")
            return
        engine.unavailable = STALE_SCHEMA
        if problem != reported:
            log.error("%s; until then requests that need the database get 503", problem)
            reported = problem


async def create_engine(url: str, *, minsize: int, maxsize: int) -> Any:
    """An ``aiopg.sa`` engine with a compiled-statement cache.

    An unreachable server is a :class:`ConfigurationError`.
    """
    try:
        return await statements.create_engine(url, minsize=minsize, maxsize=maxsize)
    except psycopg2.OperationalError as exc:
        raise ConfigurationError(f"cannot connect to the database: {exc}".strip()) from exc


async def current_revisions(conn: Connection) -> list[str]:
    """The Alembic revisions the database is at; empty for a new database."""
    exists = await conn.scalar(sa.select(sa.func.to_regclass("public.alembic_version").isnot(None)))
    if not exists:
        return []
    rows = await conn.execute(sa.select(_alembic_version.c.version_num))
    return [row[0] async for row in rows]


_PING_SECONDS = 2.0
_PING_FAILED: Final[tuple[type[Exception], ...]] = (*_NOT_REACHED, psycopg2.Error)


async def ping(engine: Any) -> bool:
    """Whether the database answers ``SELECT 1`` within two seconds."""
    try:
        async with asyncio.timeout(_PING_SECONDS), engine.acquire() as conn:
            return bool(await conn.scalar(sa.select(sa.literal(1))) == 1)
    except _PING_FAILED:
        return False


@asynccontextmanager
async def connect(url: str) -> AsyncIterator[Any]:
    """One ``aiopg.sa`` connection outside the web app (CLI commands, tests).

    Without the site's ``statement_timeout`` or acquire timeout: those keep web
    requests from piling up on a slow database, while a command run by hand
    (seeding, creating a user) may take as long as its work does. ``migrate``
    does not come through here at all (Alembic opens its own connection), and
    its DDL on a large table may legitimately run for minutes.
    """
    engine = await create_engine(with_application_name(url, "cli"), minsize=1, maxsize=1)
    try:
        async with engine.acquire() as conn:
            yield conn
    finally:
        engine.close()
        await engine.wait_closed()
