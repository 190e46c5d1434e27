"""Compile each SQLAlchemy statement once per engine, not once per request.

``aiopg.sa`` compiles the statement it is given on every ``execute()``; with
one-row queries that costs more than the round trip to PostgreSQL (see
``docs/benchmarks.md``). SQLAlchemy 1.4 already knows how to avoid that: a
statement's *cache key* is the same for every statement of the same shape, and
carries the literal values apart, so one compiled form serves them all. This
module applies that to ``aiopg.sa``: :class:`Engine` hands out
:class:`CompilingConnection` objects whose ``execute()`` looks the compiled form up in
the engine's :class:`StatementCache` and only binds the values.

Apps need do nothing to benefit. Statements built once at import time with
``sa.bindparam()`` also skip the cost of building the statement and its key
(~50 µs for a small ``select``), which is what the hot paths do.

Anything the cache cannot serve exactly as ``aiopg.sa`` would (plain strings,
DDL, positional or many parameter sets, statements without a cache key or with
"post-compile" parameters such as ``IN`` over a list) takes ``aiopg.sa``'s own
path unchanged.

The engine is also where database faults are contained. Waiting for a
connection is bounded (``acquire_timeout``). A statement PostgreSQL cancelled
(``statement_timeout``) raises :class:`DatabaseUnavailable`, not the stray
``CancelledError`` aiopg makes of it. A connection that broke, or is still
inside a transaction, never goes back to the pool, and a broken one takes the
pool's idle connections with it: after a server restart they are all dead
(see :meth:`Engine.release`). The pool is :mod:`portal.platform.db.pool`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any, Final

import aiopg
import aiopg.sa
from aiopg.sa.connection import SAConnection, _distill_params
from aiopg.sa.result import ResultMetaData, ResultProxy
from psycopg2.extensions import TRANSACTION_STATUS_IDLE
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.ddl import DDLElement

from portal.platform.db.pool import new_pool
from portal.platform.exceptions import DatabaseUnavailable

__all__ = [
    "CompilingConnection",
    "Engine",
    "Prepared",
    "StatementCache",
    "create_engine",
    "new_engine",
]

log = logging.getLogger(__name__)

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


class CompilingConnection(SAConnection):
    """An ``aiopg.sa`` connection that executes through its engine's :class:`StatementCache`."""

    __slots__ = ("_gate", "_statements")

    def __init__(self, connection: Any, engine: Engine) -> None:
        super().__init__(connection, engine)
        self._statements = engine.statements
        self._gate: asyncio.Semaphore | None = engine.gate

    async def _execute(self, query: Any, *multiparams: Any, **params: Any) -> Any:
        try:
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
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is None or task.cancelling():
                raise
            # Nobody cancelled this task: aiopg turns PostgreSQL's "canceling
            # statement" (statement_timeout) into a CancelledError of its own,
            # which would otherwise pass for the request being cancelled.
            raise DatabaseUnavailable("the statement ran past statement_timeout") from None
        except TimeoutError:
            # aiopg's own client-side limit; it has closed the connection.
            raise DatabaseUnavailable("the statement got no answer in time") from None

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
    """``aiopg.sa``'s engine, handing out :class:`CompilingConnection` objects that share one cache.

    Requests wait for a connection in a first-come, first-served queue (the
    *gate*, one place per pooled connection). aiopg's pool alone lets a newly
    arrived request take a connection just released while earlier ones are
    still being woken, so under load some requests waited round after round:
    a p99 several times the p50.

    Waiting is bounded by *acquire_timeout*, and while :attr:`unavailable`
    says why, every acquire is refused at once: both raise
    :class:`DatabaseUnavailable`, which the site answers 503.
    """

    __slots__ = ("acquire_timeout", "gate", "statements", "unavailable")

    def __init__(
        self,
        dialect: Any,
        pool: Any,
        dsn: str,
        statements: StatementCache,
        *,
        acquire_timeout: float | None = None,
    ) -> None:
        super().__init__(dialect, pool, dsn)
        self.statements = statements
        self.gate = asyncio.Semaphore(pool.maxsize)
        #: Seconds a caller waits for a connection, queueing and connecting
        #: included, before :class:`DatabaseUnavailable`; None waits for ever.
        self.acquire_timeout = acquire_timeout
        #: Why every acquire is refused right now (a short reason that
        #: ``/readyz`` shows), or None while the engine serves.
        self.unavailable: str | None = None

    async def _acquire(self) -> CompilingConnection:
        if self.unavailable is not None:
            raise DatabaseUnavailable(f"the database is not ready ({self.unavailable})")
        return await self._take()

    async def _take(self) -> CompilingConnection:
        pool = self._pool
        if not self.gate.locked() and pool.freesize and pool.size >= pool.minsize:
            # An idle connection is there for the taking: no queue to wait in
            # and (unless it turns out broken) none to make, so no timer; one
            # per request would cost ~8 µs.
            return await self._take_now()
        try:
            async with asyncio.timeout(self.acquire_timeout):
                return await self._take_now()
        except TimeoutError:
            raise DatabaseUnavailable(
                f"no database connection within {self.acquire_timeout:g} s"
            ) from None

    async def _take_now(self) -> CompilingConnection:
        gate = self.gate
        await gate.acquire()
        try:
            raw = await self._pool.acquire()
        except BaseException:
            gate.release()
            raise
        return CompilingConnection(raw, self)

    @contextlib.asynccontextmanager
    async def probe(self) -> AsyncIterator[CompilingConnection]:
        """A connection even while :attr:`unavailable`: for the check that decides it."""
        conn = await self._take()
        try:
            yield conn
        finally:
            await conn.close()

    def release(self, conn: Any) -> Any:
        """Give *conn*'s connection back to the pool, or discard it if it cannot serve again.

        A connection still inside a transaction (a task cancelled between its
        statements, a rollback that failed) is closed, which makes PostgreSQL
        roll the transaction back: it must never reach the next request. A
        broken one (the server went away) means the idle ones are most likely
        dead too, as after a restart: they are dropped with it, so the next
        requests connect afresh instead of each failing once on a stale one.
        """
        raw = conn.connection
        if raw.closed == _BROKEN:
            # aiopg leaves a broken connection watched by the event loop.
            with contextlib.suppress(OSError, RuntimeError):
                raw.close()
            dropped = self.drop_idle()
            log.info("a database connection broke; dropped %d idle ones with it", dropped)
        elif not raw.closed and raw.raw.get_transaction_status() != TRANSACTION_STATUS_IDLE:
            raw.close()
        return self._pool.release(raw)

    def drop_idle(self) -> int:
        """Close the pool's idle connections (new ones are made on demand); how many."""
        # aiopg keeps them in this deque. Its Pool.clear() does the same but
        # waits for the pool's lock, which a caller stuck connecting holds.
        free = self._pool._free
        dropped = len(free)
        while free:
            free.popleft().close()
        return dropped


#: psycopg2's ``connection.closed`` for a connection found broken (1: closed by us).
_BROKEN: Final = 2


def new_engine(
    dsn: str,
    *,
    minsize: int,
    maxsize: int,
    acquire_timeout: float | None = None,
    statement_timeout: float = 0.0,
) -> Engine:
    """An engine for *dsn* that has not connected yet: its pool connects on first use.

    Call it with an event loop running. *statement_timeout* (seconds; 0: none)
    applies to every connection of the pool; *acquire_timeout* see :class:`Engine`.
    """
    pool = new_pool(dsn, minsize=minsize, maxsize=maxsize, statement_timeout=statement_timeout)
    return Engine(
        aiopg.sa.engine.get_dialect(),
        pool,
        dsn,
        StatementCache(),
        acquire_timeout=acquire_timeout,
    )


async def create_engine(dsn: str, *, minsize: int, maxsize: int) -> Engine:
    """A pool of *minsize* to *maxsize* connections to *dsn*, with its own statement cache.

    Connects once now, even with ``minsize=0``, so a bad URL fails here, not
    at the first request.
    """
    engine = new_engine(dsn, minsize=minsize, maxsize=maxsize)
    try:
        async with engine.probe():
            pass
    except BaseException:
        engine.close()
        await engine.wait_closed()
        raise
    return engine
