"""Logging set-up shared by the CLI and the server."""

from __future__ import annotations

import logging
import time

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Handler

from portal.platform.auth.current import user_key
from portal.settings import Settings

__all__ = [
    "MalformedRequestFilter",
    "access_log",
    "configure_logging",
    "request_log_middleware",
    "setup_app_logging",
]

# Libraries that narrate every step at INFO; their warnings still show.
_CHATTY = ("pgserver", "alembic.runtime.plugins")
#: The process id tells apart the lines of several gunicorn workers sharing one stderr.
_APP_FORMAT = "[%(asctime)s] [%(process)d] %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str) -> None:
    """Log to stderr at *level*, with the chattiest libraries kept to warnings."""
    logging.basicConfig(level=level.upper(), format="%(levelname)s %(name)s: %(message)s")
    for name in _CHATTY:
        logging.getLogger(name).setLevel(logging.WARNING)


def setup_app_logging(settings: Settings) -> None:
    """Apply ``log_level`` to portal's loggers, whatever serves the app (gunicorn, adev, run).

    Called by the application factory, so it must be idempotent: the factory
    runs once per gunicorn worker, and hundreds of times in the tests. The
    host's own logging set-up wins: a handler (to stderr) is added only when no
    handler would receive portal's records at all - neither the ``portal``
    logger nor any ancestor has one, as under gunicorn's default set-up or
    adev. ``python -m portal run``, pytest or a ``dictConfig`` (gunicorn's
    ``--log-config-dict``) that gives the root logger a handler keep theirs,
    and no line is written twice.
    """
    logger = logging.getLogger("portal")
    logger.setLevel(settings.log_level.upper())
    server = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, MalformedRequestFilter) for f in server.filters):
        server.addFilter(MalformedRequestFilter())
    if not logger.hasHandlers():
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(_APP_FORMAT))
        logger.addHandler(handler)


class MalformedRequestFilter(logging.Filter):
    """aiohttp's ERROR with a traceback for a request it cannot parse, as one WARNING line.

    A bad request line, header or length is the client's mistake, answered 400
    before any of portal's code runs; logged as aiohttp logs it, anyone could
    fill the log with tracebacks by sending garbage. Real faults (anything
    else aiohttp logs) pass unchanged.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError) and record.levelno > logging.WARNING:
            record.msg = f"{record.getMessage()}: malformed request ({type(exc).__name__})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


access_log = logging.getLogger("portal.access")
#: The debug toolbar's own files and the polling of its open page (every 3 s):
#: not the developer's requests, so below the log's usual level.
_TOOLBAR_PATHS = "/_debugtoolbar/"


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
        level = logging.DEBUG if request.path.startswith(_TOOLBAR_PATHS) else logging.INFO
        if access_log.isEnabledFor(level):
            user = request.get(user_key)
            access_log.log(
                level,
                "%s %s %d %.1fms user=%s",
                request.method,
                request.path,
                status,
                (time.perf_counter() - start) * 1000,
                user.username if user is not None else "-",
            )
