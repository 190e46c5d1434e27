"""Security headers on every response the root or any sub-app sends, errors included."""

from __future__ import annotations

from aiohttp import web

from portal.platform.keys import settings_key

__all__ = ["CONTENT_SECURITY_POLICY", "security_headers"]

_ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}

#: Only our own scripts and styles, never inline ones.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare`` hook: fires for static files and errors too.

    The CSP is left off with debug on: the toolbar and adev's livereload inject
    inline and cross-port scripts that it would block.
    """
    for name, value in _ALWAYS.items():
        response.headers.setdefault(name, value)
    if not request.config_dict[settings_key].debug:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
