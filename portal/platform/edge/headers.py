"""Security headers on every response the root or any sub-app sends, errors included.

``Strict-Transport-Security`` is added to responses to https requests (as a
trusted proxy reports them, see :mod:`portal.platform.edge.proxy`). ``Server``
says only ``portal``: no version for an attacker to look advisories up by.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web, web_response

from portal.platform.edge.proxy import is_https
from portal.settings import Settings

__all__ = ["CONTENT_SECURITY_POLICY", "SERVER", "hide_server_version", "security_headers"]

#: The whole ``Server`` header (aiohttp's default names Python's and its own version).
SERVER = "portal"

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
    # Only over https: a browser ignores it on plain http, and on a site that
    # is not yet on https it would lock visitors out for a year.
    hsts = f"max-age={settings.hsts_seconds}" if settings.hsts_seconds else None
    if hsts is not None and settings.hsts_include_subdomains:
        hsts += "; includeSubDomains"

    async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
        response_headers = response.headers
        for name, value in pairs:
            if name not in response_headers:
                response_headers[name] = value
        if hsts is not None and is_https(request):
            response_headers["Strict-Transport-Security"] = hsts

    return add_headers


def hide_server_version() -> None:
    """Make aiohttp's default ``Server`` header :data:`SERVER`, process-wide.

    aiohttp puts its default on every response it sends, the apps' and the
    400s its protocol layer answers before any app (or response hook) runs;
    it offers no setting for it, only this module constant, read for every
    response, so one assignment covers them all. Setting it again is
    harmless, so every factory call may do it.
    """
    web_response.SERVER_SOFTWARE = SERVER  # type: ignore[attr-defined]
