"""Logging set-up shared by the CLI and the server."""

from __future__ import annotations

import logging
import time

from aiohttp import web
from aiohttp.typedefs import Handler

from portal.platform.keys import user_key

__all__ = ["access_log", "configure_logging", "request_log_middleware"]

# Libraries that narrate every step at INFO; their warnings still show.
_CHATTY = ("pgserver", "alembic.runtime.plugins")


def configure_logging(level: str) -> None:
    """Log to stderr at *level*, with the chattiest libraries kept to warnings."""
    logging.basicConfig(level=level.upper(), format="%(levelname)s %(name)s: %(message)s")
    for name in _CHATTY:
        logging.getLogger(name).setLevel(logging.WARNING)


access_log = logging.getLogger("portal.access")


@web.middleware
async def request_log_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One line per request: method, path, status, duration and user.

    The path is logged without its query string and no header is logged, so
    tokens, cookies and form values never reach the log.
    """
    start = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        if access_log.isEnabledFor(logging.INFO):
            user = request.get(user_key)
            access_log.info(
                "%s %s %d %.1fms user=%s",
                request.method,
                request.path,
                status,
                (time.perf_counter() - start) * 1000,
                user.username if user is not None else "-",
            )
