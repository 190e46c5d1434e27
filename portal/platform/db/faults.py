"""Which database errors mean "unavailable, try again", and how they are reported.

A refused connection, a backend terminated by a restart, a pool with no
connection free in time and a statement cancelled by ``statement_timeout``
are not bugs in the request: the same request may well succeed a moment
later. The error middleware answers them 503 with ``Retry-After`` and logs
one line each (:func:`describe`), never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any, Final

import psycopg2
import psycopg2.extensions

from portal.platform.exceptions import DatabaseUnavailable

__all__ = [
    "NO_ANSWER",
    "RETRY_AFTER_SECONDS",
    "UNAVAILABLE",
    "cancel_and_wait",
    "describe",
    "quiet_statement_cancels",
]

#: Errors that mean the database cannot serve now, whatever the request.
#: ``OperationalError`` covers a refused or lost connection, a terminated
#: backend (``AdminShutdown``), ``statement_timeout`` (``QueryCanceled``), too
#: many clients, serialization failures and deadlocks: all worth a retry.
#: ``InterfaceError`` is psycopg2's "connection already closed".
UNAVAILABLE: Final[tuple[type[Exception], ...]] = (
    DatabaseUnavailable,
    psycopg2.OperationalError,
    psycopg2.InterfaceError,
)

#: What a bounded wait on the database may end in: no answer in time, or unavailable.
NO_ANSWER: Final[tuple[type[Exception], ...]] = (TimeoutError, *UNAVAILABLE)

#: What ``Retry-After`` tells a client refused with 503: long enough for a
#: pool to free up or a restarted server to accept connections again.
RETRY_AFTER_SECONDS: Final = 2

#: How long :func:`cancel_and_wait` gives a task before cancelling it again.
_RECANCEL_SECONDS: Final = 0.1


def describe(exc: BaseException) -> str:
    """One line for the log: the error's class and the first line of its message.

    libpq's messages run over several lines (hints, the server's address);
    the first says what happened. No SQL, no parameters, no traceback.
    """
    lines = str(exc).strip().splitlines()
    first = lines[0].strip() if lines else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


@contextlib.contextmanager
def quiet_statement_cancels() -> Iterator[None]:
    """While in the block, drop aiopg's report of each statement PostgreSQL cancelled.

    aiopg turns a ``QueryCanceled`` (``statement_timeout``) into a
    ``CancelledError`` and also hands the original error to the event loop's
    exception handler, which logs it with a traceback. The platform reports
    the failure itself, once, as the 503 it becomes; every other report still
    reaches the handler that was there before.
    """
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if isinstance(context.get("exception"), psycopg2.extensions.QueryCanceledError):
            return
        if previous is None:
            loop.default_exception_handler(context)
        else:
            previous(loop, context)

    loop.set_exception_handler(handler)
    try:
        yield
    finally:
        # Another app on this loop may have put its own handler on top since.
        if loop.get_exception_handler() is handler:
            loop.set_exception_handler(previous)


async def cancel_and_wait(task: asyncio.Task[Any]) -> None:
    """Cancel *task* and wait until it has ended, cancelling again if a cancellation is lost.

    aiopg waits for the server with ``asyncio.wait_for``, which on Python 3.11
    swallows a cancellation that arrives just as the operation completes (a
    refused connection, say). A task retrying in a loop then carries on as
    if never cancelled, and a plain ``await task`` at cleanup waits for ever.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=_RECANCEL_SECONDS)
    with contextlib.suppress(asyncio.CancelledError):
        await task
