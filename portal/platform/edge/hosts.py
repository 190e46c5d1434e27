"""The ``Host`` header: parsed strictly, and held to an allow-list (debug on too).

A request whose ``Host`` names another site is refused with 400 before any
view runs, so absolute links, redirects and cache keys built from the host
can never point at an attacker's domain (Django's ``ALLOWED_HOSTS``).

The header is parsed as RFC 9110 (section 7.2) defines it, ``uri-host [":"
port]``: a registered name (RFC 3986's ``reg-name``, which IPv4 addresses
are too) or a bracketed IPv6 literal, then optionally a colon and digits —
nothing else. ``localhost:evil.example``, ``127.0.0.1:8200@evil.example`` or
``localhost:8200/evil.example`` are not a host with a port but malformed, and
a malformed ``Host`` is refused whatever the settings, debug on included.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from portal.settings import Settings

__all__ = ["LOCAL_HOSTS", "allowed_hosts", "host_allowed", "host_middleware", "parse_host"]

#: What an empty ``allowed_hosts`` allows: this machine only.
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")

#: RFC 3986 ``reg-name``: unreserved characters, sub-delims and %-escapes.
_REG_NAME: Final = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+")
#: RFC 3986 ``port``: ASCII digits, maybe none (``host:`` means the default port).
_PORT: Final = re.compile(r"[0-9]*")


def parse_host(host: str) -> str | None:
    """The name a ``Host`` header *host* gives, or None when it is malformed.

    The name is lower-cased, without its port or a final dot (``example.com.``
    is ``example.com``); an IPv6 address comes without brackets, in its
    compressed form (``[0:0::1]`` is ``::1``). An empty name is malformed:
    an ``http`` URI always has a host.
    """
    if host.startswith("["):
        literal, closed, rest = host[1:].partition("]")
        # A zone id ("%eth0") is no part of a URI's IPv6 literal (RFC 3986).
        if not closed or "%" in literal:
            return None
        try:
            name = ipaddress.IPv6Address(literal).compressed
        except ValueError:
            return None
    else:
        name, colon, port = host.partition(":")
        rest = colon + port
        if not _REG_NAME.fullmatch(name):
            return None
        name = name.lower().removesuffix(".")
    if rest and not (rest[0] == ":" and _PORT.fullmatch(rest[1:])):
        return None
    return name or None


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    """Whether the Host header *host* is well formed and names one of *allowed*.

    A pattern is a name, ``.example.com`` for that domain and every name
    under it, or ``*`` for any (well-formed) host.
    """
    name = parse_host(host)
    return name is not None and _matches(name, allowed)


def _matches(name: str, allowed: tuple[str, ...]) -> bool:
    for pattern in allowed:
        pattern = pattern.lower()
        if pattern == "*" or name == pattern:
            return True
        if pattern.startswith(".") and (name == pattern[1:] or name.endswith(pattern)):
            return True
    return False


def allowed_hosts(settings: Settings) -> tuple[str, ...]:
    """The host patterns *settings* answer for.

    With debug off, ``allowed_hosts`` (this machine's names when empty). With
    debug on, this machine's names and ``allowed_hosts`` too, never any host:
    a page on another site can point a name it controls at 127.0.0.1 (DNS
    rebinding) and read the developer's pages, the toolbar's included, with
    its own origin — unless the server refuses that name, as Django does.
    """
    if settings.debug:
        return (*LOCAL_HOSTS, *settings.allowed_hosts)
    return settings.allowed_hosts or LOCAL_HOSTS


def host_middleware(settings: Settings) -> Middleware:
    """The middleware refusing (400) a malformed ``Host`` or one outside
    :func:`allowed_hosts`."""
    allowed = allowed_hosts(settings)

    @web.middleware
    async def check_host(request: web.Request, handler: Handler) -> web.StreamResponse:
        name = parse_host(request.host)
        if name is None:
            raise web.HTTPBadRequest(
                reason="Malformed host",
                text="The Host header is not a host name with an optional port.",
            )
        if not _matches(name, allowed):
            raise web.HTTPBadRequest(
                reason="Unknown host",
                text="This server does not serve that host name.",
            )
        return await handler(request)

    return check_host
