"""``Cache-Control: private, no-store`` on every response made for one session only.

A response is personal when a logged-in user was known while making it (the
page shows their name, their data or a staff token's view of the API), when
its page carries the session's CSRF token (a login or vote form: a cached copy
would hand one visitor's token to the next), or when it sets a cookie (the
session moved on: a flash message was shown, a token was made). Neither a
shared cache nor the browser's disk may keep such a response. A public page
shown to an anonymous visitor without a form stays cacheable, and so do
static files.
"""

from __future__ import annotations

from typing import Final

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from portal.platform.auth.current import user_key

__all__ = ["PRIVATE", "mark_private", "private_cache_middleware", "private_key"]

#: What a personal response is sent with.
PRIVATE: Final = "private, no-store"

#: Set when something personal to this session went into the response.
private_key: web.RequestKey[bool] = web.RequestKey("private_key", bool)


def mark_private(request: web.Request) -> None:
    """Say that this request's response is for its session only (it shows the CSRF token, say)."""
    request[private_key] = True


def _personal(request: web.Request, response: web.StreamResponse) -> bool:
    return (
        request.get(private_key, False)
        or request.get(user_key) is not None
        or bool(response.cookies)
    )


def _mark(request: web.Request, response: web.StreamResponse) -> None:
    # A streamed response (a live socket) has sent its headers already; a
    # view that chose no-store itself (the admin) is left as it is.
    if response.prepared or not _personal(request, response):
        return
    if "no-store" not in response.headers.get(hdrs.CACHE_CONTROL, ""):
        response.headers[hdrs.CACHE_CONTROL] = PRIVATE


@web.middleware
async def private_cache_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Send personal responses with :data:`PRIVATE` (see the module docstring).

    It sits outside the error middleware, so error pages shown to a logged-in
    user are covered too; a redirect is still an exception here.
    """
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _mark(request, exc)
        raise
    _mark(request, response)
    return response
