"""Serving the site from ``python -m portal run``, with a graceful shutdown.

gunicorn's ``aiohttp.GunicornWebWorker`` has its own loop and shutdown
(``--graceful-timeout``); this is the single-process server's.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from portal.settings import Settings

__all__ = ["serve"]

log = logging.getLogger("portal")


async def serve(app: web.Application, settings: Settings) -> None:
    """Serve *app* until SIGTERM or SIGINT, then shut down within ``shutdown_timeout``."""
    # portal.access logs each request (with its user); aiohttp's own line would repeat it.
    runner = _GracefulRunner(app, access_log=None, shutdown_timeout=settings.shutdown_timeout)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await runner.setup()
        await web.TCPSite(runner, settings.host, settings.port).start()
        log.info("serving on http://%s:%d", settings.host, settings.port)
        await stop.wait()
        log.info("shutting down: requests in flight have %ss", settings.shutdown_timeout)
    finally:
        await runner.cleanup()


class _GracefulRunner(web.AppRunner):
    """An ``AppRunner`` whose shutdown lets a request finish receiving its body.

    aiohttp's own shutdown first marks every connection closing, and a closing
    connection drops the bytes that still arrive (``RequestHandler.data_received``;
    aio-libs/aiohttp#2298): a request whose body was still uploading would wait
    for it until the grace ran out and then be cut. So this one stops listening,
    waits (within the grace) until every request in flight has its whole body,
    and only then runs aiohttp's shutdown with what is left of the grace: live
    sockets closed with "going away", remaining handlers awaited, then the
    cleanup contexts (the engine) closed.
    """

    async def cleanup(self) -> None:
        server = self.server
        if server is not None:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self._shutdown_timeout
            for site in list(self.sites):
                await site.stop()
            # Polled: aiohttp signals nothing when a request's body completes.
            while loop.time() < deadline and any(map(_receiving_body, server.connections)):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            # aiohttp 3.14 keeps the grace in this attribute and has no setter.
            self._shutdown_timeout = max(deadline - loop.time(), 0.0)
        await super().cleanup()


def _receiving_body(connection: web.RequestHandler) -> bool:
    # _current_request is the request being handled on this connection (3.14).
    request = connection._current_request
    return request is not None and not request.content.is_eof()
