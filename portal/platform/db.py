"""The shared PostgreSQL engine and the embedded server, as ``cleanup_ctx`` contexts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg2
import sqlalchemy as sa
from aiohttp import web

from portal.platform import embedded, statements
from portal.platform.errors import ConfigurationError
from portal.platform.keys import database_url_key, db_key, mounts_key, settings_key
from portal.platform.revisions import expected_heads, schema_problem

__all__ = ["connect", "current_revisions", "embedded_postgres_ctx", "engine_ctx", "ping"]

log = logging.getLogger(__name__)

_alembic_version = sa.table("alembic_version", sa.column("version_num"))


async def embedded_postgres_ctx(app: web.Application) -> AsyncIterator[None]:
    """Start (or attach to) the embedded PostgreSQL; it outlives the app on purpose."""
    settings = app[settings_key]
    app[database_url_key] = await asyncio.to_thread(embedded.start, settings.data_dir)
    yield


async def engine_ctx(app: web.Application) -> AsyncIterator[None]:
    """Open the one ``aiopg.sa`` engine every app shares; refuse a stale schema."""
    settings = app[settings_key]
    url = app[database_url_key]
    engine = await create_engine(url, minsize=settings.db_pool_min, maxsize=settings.db_pool_max)
    try:
        async with engine.acquire() as conn:
            current = await current_revisions(conn)
        specs = [mounted.spec for mounted in app[mounts_key]]
        problem = schema_problem(current, expected_heads(specs))
        if problem is not None:
            raise ConfigurationError(problem)
        if settings.debug:
            # Imported here so production never loads it: the SQL panel's tracing.
            from portal.platform.sqltrace import TracingEngine

            app[db_key] = TracingEngine(engine)
        else:
            app[db_key] = engine
        yield
    finally:
        engine.close()
        await engine.wait_closed()


async def create_engine(url: str, *, minsize: int, maxsize: int) -> Any:
    """An ``aiopg.sa`` engine with a compiled-statement cache.

    An unreachable server is a :class:`ConfigurationError`.
    """
    try:
        return await statements.create_engine(url, minsize=minsize, maxsize=maxsize)
    except psycopg2.OperationalError as exc:
        raise ConfigurationError(f"cannot connect to the database: {exc}".strip()) from exc


async def current_revisions(conn: Any) -> list[str]:
    """The Alembic revisions the database is at; empty for a new database."""
    exists = await conn.scalar(sa.select(sa.func.to_regclass("public.alembic_version").isnot(None)))
    if not exists:
        return []
    rows = await conn.execute(sa.select(_alembic_version.c.version_num))
    return [row[0] async for row in rows]


_PING_SECONDS = 2.0


async def ping(engine: Any) -> bool:
    """Whether the database answers ``SELECT 1`` within two seconds."""
    try:
        async with asyncio.timeout(_PING_SECONDS), engine.acquire() as conn:
            return bool(await conn.scalar(sa.select(sa.literal(1))) == 1)
    except (TimeoutError, psycopg2.Error, OSError):
        return False


@asynccontextmanager
async def connect(url: str) -> AsyncIterator[Any]:
    """One ``aiopg.sa`` connection outside the web app (CLI commands, tests)."""
    engine = await create_engine(url, minsize=1, maxsize=1)
    try:
        async with engine.acquire() as conn:
            yield conn
    finally:
        engine.close()
        await engine.wait_closed()
