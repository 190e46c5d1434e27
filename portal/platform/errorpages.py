"""Errors at the edge: each section answers in its own format, never with a traceback.

HTML sections get a page in the shared layout; the JSON API gets RFC 9457
``application/problem+json``. An unexpected exception is logged with its
traceback and answered with a plain 500; with debug on in an HTML section it
is re-raised instead, so the debug toolbar shows its interactive traceback.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from portal.platform.api.problems import problem_response
from portal.platform.keys import settings_key
from portal.platform.policy import policy_for
from portal.platform.templating import render

__all__ = ["error_middleware"]

log = logging.getLogger(__name__)

_KEEP_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


async def _error_page(request: web.Request, status: int, title: str, detail: str) -> web.Response:
    try:
        return await render(
            request,
            "errors/error.html",
            {"status": status, "title": title, "detail": detail},
            status=status,
        )
    except Exception:
        # The page itself failed (the database is down, say): still answer.
        log.exception("could not render the error page for %s", status)
        return web.Response(status=status, text=f"{status} {title}", content_type="text/plain")


def _detail(exc: web.HTTPException) -> str:
    text = exc.text or ""
    # aiohttp's default body is "404: Not Found"; ours says something useful.
    return "" if text == f"{exc.status}: {exc.reason}" else text


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every 4xx/5xx, raised or unexpected, into the section's error format."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        status, title, detail = exc.status, exc.reason, _detail(exc)
        headers = {k: exc.headers[k] for k in _KEEP_HEADERS if k in exc.headers}
    except asyncio.CancelledError:
        raise
    except Exception:
        policy = policy_for(request)
        if request.config_dict[settings_key].debug and policy.errors == "html":
            raise
        log.exception("unhandled error in %s %s", request.method, request.path)
        status, title, detail, headers = 500, "Internal Server Error", "", {}
    if policy_for(request).errors == "problem":
        response = problem_response(status, detail, title=title)
    else:
        response = await _error_page(request, status, title, detail)
    response.headers.update(headers)
    return response
