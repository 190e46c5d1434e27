"""Security headers on every response the root or any sub-app sends, errors included."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from portal.settings import Settings

__all__ = ["CONTENT_SECURITY_POLICY", "security_headers"]

_ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}

#: What ``on_response_prepare`` calls.
ResponseHook = Callable[[web.Request, web.StreamResponse], Awaitable[None]]

#: Only our own scripts and styles, never inline ones.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def security_headers(settings: Settings) -> ResponseHook:
    """The ``on_response_prepare`` hook for *settings*: fires for static files and errors too.

    The CSP is left off with debug on: the toolbar and adev's livereload inject
    inline and cross-port scripts that it would block.
    """
    headers = dict(_ALWAYS)
    if not settings.debug:
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    pairs = tuple(headers.items())

    async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
        response_headers = response.headers
        for name, value in pairs:
            if name not in response_headers:
                response_headers[name] = value

    return add_headers
