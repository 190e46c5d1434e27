"""aiopg's connection pool, made to come through PostgreSQL going away and coming back.

aiopg mishandles a connection that breaks (a restart, an outage) in ways that
cost more than the one request that met the break:

- When a connection attempt fails (refused, or the server gone mid-way),
  libpq closes the socket; aiopg stops watching it for reading, forgets it,
  and never stops watching it for writing. Idle connections found broken are
  dropped without being closed, with the same effect. uvloop (the server's
  event loop) then holds a dead handle for that file descriptor and refuses
  every later socket given the same number: ``RuntimeError: the handler is
  closed``, a 500 on each connection attempt that draws that number.
- The pool checks its idle connections, may then await (making new ones up
  to ``minsize``), and hands one out without looking again: one that broke
  meanwhile trips its ``assert not conn.closed``, another 500.
- A new connection whose ``on_connect`` hook fails is neither pooled nor closed.

:class:`Pool` and its connections fix these, and :func:`connect` makes one
such connection on its own (the event listener's); everything else is aiopg's.
"""

from __future__ import annotations

import contextlib
import os
import weakref
from typing import Any, Final

import aiopg
from aiopg.connection import TIMEOUT
from psycopg2.extensions import make_dsn, parse_dsn

__all__ = ["Pool", "connect", "connect_options", "new_pool", "with_application_name"]

#: How often the server checks, while running a statement, that the client is
#: still there (milliseconds): a statement whose connection we dropped (its
#: request timed out) stops within this long instead of running on with its locks.
_CLIENT_CHECK_MS: Final = 1000


class _Connection(aiopg.Connection):
    """aiopg's connection, which stops watching its socket for writing once libpq closed it."""

    @staticmethod
    def _ready(weak_self: weakref.ref[Any]) -> None:
        self = weak_self()
        if self is None:
            return
        fileno, writing = self._fileno, self._writing
        aiopg.Connection._ready(weak_self)
        if writing and fileno is not None and self._fileno is None:
            # aiopg found the descriptor closed and forgot it, writer and all.
            # Nothing can have reused the number yet: this is the same callback.
            with contextlib.suppress(OSError, RuntimeError):
                self._loop.remove_writer(fileno)


async def connect(dsn: str, *, time_limit: float = TIMEOUT) -> aiopg.Connection:
    """One connection to *dsn*, outside any pool.

    *time_limit* (seconds) bounds connecting, and each statement unless the
    cursor says otherwise (aiopg's ``timeout``).
    """
    return await _Connection(
        dsn, time_limit, False, enable_json=True, enable_hstore=True, enable_uuid=True
    )


class Pool(aiopg.Pool):
    """aiopg's pool, closing what breaks and never handing out a broken connection.

    Connections are not recycled by age (aiopg's ``pool_recycle``, unused here).
    """

    async def _fill_free_pool(self, override_min: bool) -> None:
        while True:
            self._close_broken()
            while self.size < self.minsize:
                await self._add_connection()
            if not self._free and override_min and (not self.maxsize or self.size < self.maxsize):
                await self._add_connection()
            # Look again: one may have broken while a new one was being made.
            if not any(conn.closed for conn in self._free):
                return

    def _close_broken(self) -> None:
        for conn in [conn for conn in self._free if conn.closed]:
            conn.close()
            self._free.remove(conn)

    async def _add_connection(self) -> None:
        self._acquiring += 1
        try:
            conn = await _Connection(
                self._dsn,
                self._timeout,
                self._echo,
                enable_json=self._enable_json,
                enable_hstore=self._enable_hstore,
                enable_uuid=self._enable_uuid,
                **self._conn_kwargs,
            )
            try:
                if self._on_connect is not None:
                    await self._on_connect(conn)
            except BaseException:
                conn.close()
                raise
            self._free.append(conn)
            self._cond.notify()
        finally:
            self._acquiring -= 1


def with_application_name(dsn: str, role: str) -> str:
    """*dsn*, its connections named ``portal <role> pid=<this process>``.

    The name shows in ``pg_stat_activity.application_name``, so an operator
    can tell the site's pool (``web``) from the event listener (``listen``)
    and a command (``cli``), and end one worker's connections by its pid.
    It is libpq's ``fallback_application_name``: a name the operator set (in
    the URL, or ``PGAPPNAME``) still wins. Call it in the process that
    connects: a gunicorn worker, not the master it was forked from.
    """
    return str(make_dsn(dsn, fallback_application_name=f"portal {role} pid={os.getpid()}"))


def connect_options(dsn: str, *, statement_timeout: float) -> dict[str, str]:
    """libpq keywords setting PostgreSQL's ``statement_timeout`` (seconds; 0: none) per connection.

    ``-c statement_timeout`` in the startup packet costs no round trip. Options
    already in *dsn* (or ``PGOPTIONS``) are kept: a keyword would replace them.
    """
    if statement_timeout <= 0:
        return {}
    existing = parse_dsn(dsn).get("options") or os.environ.get("PGOPTIONS", "")
    milliseconds = max(1, round(statement_timeout * 1000))
    return {"options": f"{existing} -c statement_timeout={milliseconds}".strip()}


async def _on_connect(conn: Any) -> None:
    # client_connection_check_interval exists from PostgreSQL 14 on; an older
    # server would refuse it in the startup options, so it is set here.
    if conn.raw.server_version >= 140000:
        async with conn.cursor() as cur:
            await cur.execute(f"SET client_connection_check_interval = {_CLIENT_CHECK_MS}")


def new_pool(dsn: str, *, minsize: int, maxsize: int, statement_timeout: float = 0.0) -> Pool:
    """A pool of *minsize* to *maxsize* connections to *dsn*; none is made until first use.

    Call it with an event loop running. *statement_timeout* (seconds; 0: none)
    applies to every connection.
    """
    return Pool(
        dsn,
        minsize,
        maxsize,
        TIMEOUT,
        enable_json=True,
        enable_hstore=True,
        enable_uuid=True,
        echo=False,
        on_connect=_on_connect,
        pool_recycle=-1.0,
        **connect_options(dsn, statement_timeout=statement_timeout),
    )
