"""Errors at the edge: each section answers in its own format, never with a traceback.

HTML sections get a page in the shared layout; the JSON API gets RFC 9457
``application/problem+json``. An unexpected exception is logged with its
traceback and answered with a plain 500; with debug on in an HTML section it
is re-raised instead, so the debug toolbar shows its interactive traceback.

A missing static file is the same 404 page as any other missing page.

A database that cannot serve (unreachable, restarting, every connection busy,
a statement past its timeout) is no bug: it is answered 503 with
``Retry-After`` and logged in one line. The error page itself never waits on
the database: who is logged in is looked up only briefly, and not at all when
the database is what failed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler

from portal.platform.api.problems import problem_response
from portal.platform.auth.current import current_user, user_key
from portal.platform.db.faults import NO_ANSWER, RETRY_AFTER_SECONDS, UNAVAILABLE, describe
from portal.platform.keys import settings_key
from portal.platform.policy import policy_for
from portal.platform.templating import render

__all__ = ["error_middleware"]

log = logging.getLogger(__name__)

_KEEP_HEADERS = ("Allow", "RateLimit", "RateLimit-Policy", "Retry-After", "WWW-Authenticate")

_UNAVAILABLE_DETAIL: Final = "The database is not answering right now. Please try again shortly."
#: After these the database is suspect: the page does not ask it who is logged in.
_DATABASE_SUSPECT: Final = frozenset({503, 504})
#: How long an error page waits to learn who is logged in before showing nobody.
_USER_SECONDS: Final = 1.0


async def _settle_user(request: web.Request, *, ask_database: bool) -> None:
    """Decide who the page shows as logged in, without letting the database fail it."""
    if user_key in request:
        return
    if ask_database:
        try:
            async with asyncio.timeout(_USER_SECONDS):
                await current_user(request)
            return
        except NO_ANSWER:
            pass
    # Rendered as logged out: better than no page, and the next page knows again.
    request[user_key] = None


async def _error_page(request: web.Request, status: int, title: str, detail: str) -> web.Response:
    await _settle_user(request, ask_database=status not in _DATABASE_SUSPECT)
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


def _missing_static_file(request: web.Request, response: web.StreamResponse) -> bool:
    """Whether *response* is a static route's answer for a file that does not exist.

    aiohttp's static route hands back a ``FileResponse`` without looking at
    the disk; the response finds the file missing only while it is being
    sent, past every middleware, and then goes out as an empty
    ``application/octet-stream`` 404 (a download, in a browser). Looked at
    here it is the site's own 404 page. The check is a ``stat`` of a file in
    the app's own folder, made on the loop: microseconds, and the static
    versioned static URLs aiohttp builds read these files on the loop too.
    """
    if not isinstance(response, web.FileResponse):
        return False
    resource = request.match_info.route.resource
    if not isinstance(resource, web.StaticResource):
        return False
    # The route has already refused a path out of the folder.
    return not (resource.get_info()["directory"] / request.match_info["filename"]).is_file()


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every 4xx/5xx, raised or unexpected, into the section's error format."""
    try:
        response = await handler(request)
        if _missing_static_file(request, response):
            raise web.HTTPNotFound(text="There is no such file.")
        return response
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        status, title, detail = exc.status, exc.reason, _detail(exc)
        headers = {k: exc.headers[k] for k in _KEEP_HEADERS if k in exc.headers}
    except asyncio.CancelledError:
        raise
    except UNAVAILABLE as exc:
        log.warning(
            "database unavailable for %s %s: %s", request.method, request.path, describe(exc)
        )
        status, title, detail = 503, "Service Unavailable", _UNAVAILABLE_DETAIL
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    except Exception:
        policy = policy_for(request)
        if request.config_dict[settings_key].debug and policy.errors == "html":
            raise
        log.exception("unhandled error in %s %s", request.method, request.path)
        status, title, detail, headers = 500, "Internal Server Error", "", {}
    if policy_for(request).errors == "problem":
        response = problem_response(request, status, detail, title=title)
    else:
        response = await _error_page(request, status, title, detail)
    response.headers.update(headers)
    return response
