"""A time limit on every request: still running after ``request_timeout``, it is answered 504.

At the deadline the handler is cancelled and :class:`web.HTTPGatewayTimeout`
raised in its place, which the error middleware (just outside this one)
formats like any other error of the section: an HTML page, or a problem
document under ``/api/``.

Cancelling leaves no write half-done. Writes of more than one statement run
in a transaction (``async with conn.begin()``), which rolls back on the way
out; a statement interrupted in flight has its connection closed by aiopg,
and PostgreSQL rolls its transaction back (the server notices the client is
gone within a second, see ``statements._CLIENT_CHECK_MS``); and the engine
never puts a connection back in the pool mid-transaction
(``statements.Engine.release``).

A handler that has begun its response by the deadline (a WebSocket such as
the live pages', a streamed body) is left running: its status line is sent,
so a 504 can no longer be, and such responses are meant to last.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from portal.settings import Settings

__all__ = ["timeout_middleware"]

log = logging.getLogger(__name__)


class _Deadline:
    """What happens when one request's time is up."""

    __slots__ = ("_request", "_task", "expired")

    def __init__(self, request: web.Request, task: asyncio.Task[object]) -> None:
        self._request = request
        self._task = task
        self.expired = False

    def expire(self) -> None:
        # Bytes out means the response has begun (a WebSocket's 101, a
        # stream's headers): exempt. A handler returning a Response has
        # written nothing yet; it is sent after the middlewares return.
        if self._request.writer.output_size:
            return
        self.expired = True
        self._task.cancel()


def timeout_middleware(settings: Settings) -> Middleware:
    """Answer 504 for a request still running after ``settings.request_timeout`` (0: no limit)."""
    limit = settings.request_timeout

    @web.middleware
    async def request_time_limit(request: web.Request, handler: Handler) -> web.StreamResponse:
        task = asyncio.current_task()
        if limit <= 0 or task is None:
            return await handler(request)
        # Not asyncio.timeout(): it cannot spare a response that has begun.
        deadline = _Deadline(request, task)
        cancelling = task.cancelling()
        timer = asyncio.get_running_loop().call_later(limit, deadline.expire)
        try:
            response = await handler(request)
        except BaseException:
            # Whatever the cancelled handler raised on its way out (usually
            # the CancelledError itself) is the deadline's doing.
            if not deadline.expired or task.uncancel() > cancelling:
                # Not ours, or cancelled for another reason as well (shutdown).
                raise
            log.warning(
                "%s %s ran past the %g s time limit: answered 504",
                request.method,
                request.path,
                limit,
            )
            raise web.HTTPGatewayTimeout(
                text=f"The request took longer than {limit:g} seconds."
            ) from None
        finally:
            timer.cancel()
        if deadline.expired:
            # The handler swallowed the cancellation and finished: its answer stands.
            task.uncancel()
        return response

    return request_time_limit
