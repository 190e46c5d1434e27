"""CORS: which other sites' pages may call the API from a browser (``cors_origins``).

Only a section whose policy authenticates by bearer token (the API) ever
answers CORS, and only for an ``Origin`` listed in ``cors_origins``; pages
for people (cookie sessions, forms) never do, whatever the setting. With
the setting empty nothing here is installed and no CORS header is sent.

Credentials are never allowed (no ``Access-Control-Allow-Credentials``):
the API takes bearer tokens, which a page sends itself, never cookies, so a
listed page can do nothing with a visitor's browser that it could not do
from its own server. An unlisted origin gets no CORS header at all, so the
browser keeps its page from reading the answer (or, after a preflight, from
sending the request).

Preflights (``OPTIONS`` with ``Access-Control-Request-Method``) are
answered here, before the rate limiter: the browser sends them on its own,
and they touch no data.
"""

from __future__ import annotations

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware

from portal.platform.edge.headers import ResponseHook
from portal.platform.policy import policy_for
from portal.settings import Settings

__all__ = ["ALLOWED_HEADERS", "EXPOSED_HEADERS", "MAX_AGE", "cors_headers", "cors_middleware"]

#: Request headers a listed page may send (``Content-Type`` for JSON bodies,
#: the conditional-request and ``Prefer`` headers the API reads).
ALLOWED_HEADERS = "Authorization, Content-Type, If-Match, If-None-Match, Prefer"
#: Response headers a listed page may read, beyond the few every page may.
EXPOSED_HEADERS = "Location, ETag, RateLimit, RateLimit-Policy, Retry-After"
#: How long (seconds) a browser may reuse a preflight's answer: short enough
#: that a changed ``cors_origins`` reaches browsers within minutes.
MAX_AGE = 600


def _api_section(request: web.Request) -> bool:
    # Bearer-token sections only: a cookie-authenticated one opened to other
    # origins would invite cross-site requests riding on the visitor's session.
    return policy_for(request).auth == "bearer"


def _route_methods(request: web.Request) -> list[str]:
    """The methods the requested path answers (none for an unknown path).

    No API route answers ``OPTIONS`` itself, so the router has resolved a
    preflight to a 405, which lists the path's methods.
    """
    refusal = request.match_info.http_exception
    if isinstance(refusal, web.HTTPMethodNotAllowed):
        return sorted(refusal.allowed_methods)
    return []


def cors_middleware(settings: Settings) -> Middleware:
    """The middleware answering a listed origin's preflight on an API path with 204."""
    origins = frozenset(settings.cors_origins)

    @web.middleware
    async def preflight(request: web.Request, handler: Handler) -> web.StreamResponse:
        if (
            request.method == hdrs.METH_OPTIONS
            and hdrs.ACCESS_CONTROL_REQUEST_METHOD in request.headers
            and request.headers.get(hdrs.ORIGIN) in origins
            and _api_section(request)
        ):
            methods = _route_methods(request)
            if methods:
                # Allow-Origin and Vary are added by cors_headers, as on every answer.
                return web.Response(
                    status=204,
                    headers={
                        hdrs.ACCESS_CONTROL_ALLOW_METHODS: ", ".join(methods),
                        hdrs.ACCESS_CONTROL_ALLOW_HEADERS: ALLOWED_HEADERS,
                        hdrs.ACCESS_CONTROL_MAX_AGE: str(MAX_AGE),
                    },
                )
        return await handler(request)

    return preflight


def cors_headers(settings: Settings) -> ResponseHook:
    """The ``on_response_prepare`` hook giving a listed origin's API answers their
    CORS headers, errors included (a page must be able to read a 401 or a 429).

    ``Vary: Origin`` goes on every API answer, listed origin or not, so that a
    cache never hands one origin's answer to another.
    """
    origins = frozenset(settings.cors_origins)

    async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
        if not _api_section(request):
            return
        headers = response.headers
        vary = headers.get(hdrs.VARY)
        if vary is None:
            headers[hdrs.VARY] = hdrs.ORIGIN
        elif hdrs.ORIGIN.lower() not in vary.lower():
            headers[hdrs.VARY] = f"{vary}, {hdrs.ORIGIN}"
        origin = request.headers.get(hdrs.ORIGIN)
        if origin is not None and origin in origins:
            headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = origin
            headers[hdrs.ACCESS_CONTROL_EXPOSE_HEADERS] = EXPOSED_HEADERS

    return add_headers
