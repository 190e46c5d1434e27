"""Query tracing for the debug toolbar's SQL panel (debug only, never in production).

With debug on, the shared engine is wrapped so every statement a request runs
through it is recorded (SQL, the values it really ran with, duration) in a
list that the SQL panel opens for that request. With debug off this module is never imported
and the engine is not wrapped: no cost at all.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aiopg.sa.connection import _distill_params

__all__ = ["QueryRecord", "TracingEngine", "recording"]


@dataclass(frozen=True, slots=True)
class QueryRecord:
    """One statement as it ran."""

    sql: str
    params: str
    duration_ms: float


_records: ContextVar[list[QueryRecord] | None] = ContextVar("portal_sql_records", default=None)


@asynccontextmanager
async def recording() -> AsyncIterator[list[QueryRecord]]:
    """Record the statements run in this context (this request's task) into a list."""
    records: list[QueryRecord] = []
    token = _records.set(records)
    try:
        yield records
    finally:
        _records.reset(token)


def _describe(
    dialect: Any, query: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[str, str]:
    """The statement's SQL and the values it ran with, as the panel shows them."""
    if isinstance(query, str):
        return query, repr(args or kwargs or "")
    compiled = query.compile(dialect=dialect)
    # ``compiled.params`` holds the statement's own values: None for every
    # ``bindparam()`` left open. What ran is those merged with what
    # ``execute()`` was given, as aiopg.sa and portal.platform.db.statements bind it.
    distilled = _distill_params(args, kwargs)  # type: ignore[no-untyped-call]
    values = distilled[0] if distilled else None
    if values is not None and not isinstance(values, dict):
        return str(compiled), repr(values)  # positional values: shown as given
    return str(compiled), repr(compiled.construct_params(values))


class _TracingConnection:
    """An ``aiopg.sa`` connection that records what it executes."""

    def __init__(self, conn: Any, dialect: Any) -> None:
        self._conn = conn
        self._dialect = dialect

    async def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
        records = _records.get()
        if records is None:
            return await self._conn.execute(query, *args, **kwargs)
        start = time.perf_counter()
        try:
            return await self._conn.execute(query, *args, **kwargs)
        finally:
            sql, params = _describe(self._dialect, query, args, kwargs)
            records.append(QueryRecord(sql, params, (time.perf_counter() - start) * 1000))

    async def scalar(self, query: Any, *args: Any, **kwargs: Any) -> Any:
        # aiopg's own scalar() calls its execute(), which would bypass ours.
        result = await self.execute(query, *args, **kwargs)
        return await result.scalar()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


class TracingEngine:
    """The shared engine, with connections that record their statements."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[_TracingConnection]:
        async with self._engine.acquire() as conn:
            yield _TracingConnection(conn, self._engine.dialect)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)
