"""Compile each SQLAlchemy statement once per engine, not once per request.

``aiopg.sa`` compiles the statement it is given on every ``execute()``; with
one-row queries that costs more than the round trip to PostgreSQL (see
``docs/benchmarks.md``). SQLAlchemy 1.4 already knows how to avoid that: a
statement's *cache key* is the same for every statement of the same shape, and
carries the literal values apart, so one compiled form serves them all. This
module applies that to ``aiopg.sa``: :class:`Engine` hands out
:class:`Connection` objects whose ``execute()`` looks the compiled form up in
the engine's :class:`StatementCache` and only binds the values.

Apps need do nothing to benefit. Statements built once at import time with
``sa.bindparam()`` also skip the cost of building the statement and its key
(~50 µs for a small ``select``), which is what the hot paths do.

Anything the cache cannot serve exactly as ``aiopg.sa`` would (plain strings,
DDL, positional or many parameter sets, statements without a cache key or with
"post-compile" parameters such as ``IN`` over a list) takes ``aiopg.sa``'s own
path unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from typing import Any, Final

import aiopg
import aiopg.sa
from aiopg.sa.connection import SAConnection, _distill_params
from aiopg.sa.result import ResultMetaData, ResultProxy
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.ddl import DDLElement

__all__ = ["Connection", "Engine", "Prepared", "StatementCache", "create_engine"]

#: How many compiled statements one engine keeps; an app has a few dozen.
DEFAULT_CACHE_SIZE: Final = 1000


class Prepared:
    """One compiled statement and what executing it needs, shared by every execution."""

    __slots__ = ("compiled", "description", "metadata", "processors", "sql")

    def __init__(self, compiled: Any) -> None:
        self.compiled = compiled
        self.sql: str = compiled.string
        self.processors: dict[str, Any] = compiled._bind_processors
        # How result rows map to columns, built from the first result's
        # cursor.description; aiopg.sa would build it again for every result.
        self.description: Any = None
        self.metadata: Any = None

    def parameters(self, values: dict[str, Any] | None, extracted: Any) -> dict[str, Any]:
        """The driver's parameters: *values* and the statement's own literals, converted."""
        params: dict[str, Any] = self.compiled.construct_params(
            values, extracted_parameters=extracted
        )
        processors = self.processors
        if processors:
            return {
                name: processors[name](value) if name in processors else value
                for name, value in params.items()
            }
        return params


class StatementCache:
    """Compiled statements by cache key, least recently used dropped first."""

    __slots__ = ("_entries", "_size", "hits", "misses")

    def __init__(self, size: int = DEFAULT_CACHE_SIZE) -> None:
        self._entries: OrderedDict[Any, Prepared | None] = OrderedDict()
        self._size = size
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, statement: ClauseElement, dialect: Any) -> tuple[Prepared, Any] | None:
        """``(prepared, extracted literals)`` for *statement*, or None to take the slow path."""
        key = statement._generate_cache_key()
        if key is None:
            return None
        entries = self._entries
        try:
            prepared = entries[key.key]
        except KeyError:
            self.misses += 1
            compiled = statement.compile(dialect=dialect, cache_key=key)
            # IN over a list renders its SQL from the values: not reusable.
            reusable = not (compiled.post_compile_params or compiled.literal_execute_params)
            prepared = entries[key.key] = Prepared(compiled) if reusable else None
            if len(entries) > self._size:
                entries.popitem(last=False)
        else:
            self.hits += 1
            entries.move_to_end(key.key)
        if prepared is None:
            return None
        return prepared, key.bindparams


class _Result(ResultProxy):
    """aiopg.sa's result, with the row metadata taken from the :class:`Prepared` statement."""

    def __init__(self, connection: Any, cursor: Any, dialect: Any, prepared: Prepared) -> None:
        self._prepared = prepared
        super().__init__(connection, cursor, dialect, prepared.compiled._result_columns)

    def _init_metadata(self) -> None:
        description = self.cursor.description
        if description is None:
            self.close()
            return
        prepared = self._prepared
        if prepared.metadata is None or prepared.description != description:
            prepared.metadata = ResultMetaData(self, description)
            prepared.description = description
        self._metadata = prepared.metadata
        # aiopg.sa also keeps a weakref here whose callback refers back to the
        # result: a reference cycle per query, left for the garbage collector.
        # Without it the result is freed at once; an unread cursor is still
        # closed with its connection (SAConnection tracks its cursors).


class Connection(SAConnection):
    """An ``aiopg.sa`` connection that executes through its engine's :class:`StatementCache`."""

    __slots__ = ("_gate", "_statements")

    def __init__(self, connection: Any, engine: Engine) -> None:
        super().__init__(connection, engine)
        self._statements = engine.statements
        self._gate: asyncio.Semaphore | None = engine.gate

    async def _execute(self, query: Any, *multiparams: Any, **params: Any) -> Any:
        if not isinstance(query, ClauseElement) or isinstance(query, DDLElement):
            return await super()._execute(query, *multiparams, **params)
        distilled = _distill_params(multiparams, params)
        if len(distilled) > 1 or (distilled and not isinstance(distilled[0], dict)):
            return await super()._execute(query, *multiparams, **params)
        found = self._statements.lookup(query, self._dialect)
        if found is None:
            return await super()._execute(query, *multiparams, **params)
        prepared, extracted = found
        values = prepared.parameters(distilled[0] if distilled else None, extracted)
        cursor = await self._open_cursor()
        await cursor.execute(prepared.sql, values)
        return _Result(self, cursor, self._dialect, prepared)

    async def close(self) -> None:
        """Return the connection to the pool, and its place to the next waiting request.

        aiopg.sa runs its close in a shielded task, so a cancellation cannot
        interrupt a rollback; with no transaction open there is nothing to
        interrupt, and releasing in place saves a task and a loop turn per
        request.
        """
        if self._connection is None:
            return
        try:
            if self._transaction is not None:
                await super().close()
                return
            for cursor in self._cursors:
                cursor.close()
            self._cursors.clear()
            # The pool wakes a waiting acquirer in a task of its own; nothing
            # here depends on that. Errors are ignored, as aiopg.sa does.
            with contextlib.suppress(Exception):
                self._engine.release(self)
            self._connection = None
            self._engine = None
        finally:
            gate, self._gate = self._gate, None
            if gate is not None:
                gate.release()


class Engine(aiopg.sa.Engine):
    """``aiopg.sa``'s engine, handing out :class:`Connection` objects that share one cache.

    Requests wait for a connection in a first-come, first-served queue (the
    *gate*, one place per pooled connection). aiopg's pool alone lets a newly
    arrived request take a connection just released while earlier ones are
    still being woken, so under load some requests waited round after round:
    a p99 several times the p50.
    """

    __slots__ = ("gate", "statements")

    def __init__(self, dialect: Any, pool: Any, dsn: str, statements: StatementCache) -> None:
        super().__init__(dialect, pool, dsn)
        self.statements = statements
        self.gate = asyncio.Semaphore(pool.maxsize)

    async def _acquire(self) -> Connection:
        await self.gate.acquire()
        try:
            raw = await self._pool.acquire()
        except BaseException:
            self.gate.release()
            raise
        return Connection(raw, self)


async def create_engine(dsn: str, *, minsize: int, maxsize: int) -> Engine:
    """A pool of *minsize* to *maxsize* connections to *dsn*, with its own statement cache."""
    pool = await aiopg.create_pool(dsn, minsize=minsize, maxsize=maxsize)
    try:
        # Connect once even with minsize=0, so a bad URL fails here, not at the first request.
        conn = await pool.acquire()
        await pool.release(conn)
    except BaseException:
        pool.close()
        await pool.wait_closed()
        raise
    return Engine(aiopg.sa.engine.get_dialect(), pool, dsn, StatementCache())
