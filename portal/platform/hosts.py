"""The Host allow-list: with debug off, answer only for the site's own names.

A request whose ``Host`` names another site is refused with 400 before any
view runs, so absolute links, redirects and cache keys built from the host
can never point at an attacker's domain (Django's ``ALLOWED_HOSTS``).
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from portal.settings import Settings

__all__ = ["LOCAL_HOSTS", "host_allowed", "host_middleware"]

#: What an empty ``allowed_hosts`` allows: this machine only.
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def _hostname(host: str) -> str:
    """*host* (a Host header) without its port, lower-cased; IPv6 without brackets."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else ""
    name, _, _port = host.partition(":")
    return name.rstrip(".")


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    """Whether the Host header *host* names one of *allowed*."""
    name = _hostname(host)
    if not name:
        return False
    for pattern in allowed:
        pattern = pattern.lower()
        if pattern == "*" or name == pattern:
            return True
        if pattern.startswith(".") and (name == pattern[1:] or name.endswith(pattern)):
            return True
    return False


def host_middleware(settings: Settings) -> Middleware:
    """The middleware refusing requests for hosts outside *settings*' allow-list."""
    allowed = settings.allowed_hosts or LOCAL_HOSTS

    @web.middleware
    async def check_host(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not host_allowed(request.host, allowed):
            raise web.HTTPBadRequest(
                reason="Unknown host",
                text="This server does not serve that host name.",
            )
        return await handler(request)

    return check_host
