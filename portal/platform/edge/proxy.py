"""Behind a reverse proxy: who the client is, and whether it used https.

A proxy that terminates TLS connects to portal over plain http and says what
it saw in ``X-Forwarded-For`` and ``X-Forwarded-Proto``. Anyone can send those
headers, so they are believed only from a peer in ``trusted_proxies``; from
any other peer they are ignored, and a forged ``X-Forwarded-For`` can neither
hide a client from the log nor pass for https.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from portal.settings import Settings

__all__ = ["client_address", "forwarded_middleware", "https_key", "is_https"]

#: Whether the client reached the site over https, when a trusted proxy said so
#: (``X-Forwarded-Proto``); absent, the connection's own scheme counts.
https_key: web.RequestKey[bool] = web.RequestKey("https_key")

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def is_https(request: web.Request) -> bool:
    """Whether the client reached the site over https (through a trusted proxy or directly)."""
    forwarded = request.get(https_key)
    return request.secure if forwarded is None else forwarded


def _trusted(address: str, networks: Sequence[_Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(peer: str, forwarded_for: str, networks: Sequence[_Network]) -> str:
    """The client's address: the nearest hop of *forwarded_for* that is not a trusted proxy.

    Each proxy appends the address it received the request from, so the list
    is read from the right; what is left of the first untrusted hop was
    written by the client itself and proves nothing.
    """
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    address = peer
    while hops and _trusted(address, networks):
        address = hops.pop()
    return address


def forwarded_middleware(settings: Settings) -> Middleware:
    """The middleware believing ``X-Forwarded-*`` from *settings*' trusted proxies only."""
    networks = tuple(
        ipaddress.ip_network(entry, strict=False) for entry in settings.trusted_proxies
    )

    @web.middleware
    async def forwarded(request: web.Request, handler: Handler) -> web.StreamResponse:
        peer = request.remote
        if peer is None or not _trusted(peer, networks):
            return await handler(request)
        proto = request.headers.get("X-Forwarded-Proto", "")
        # The first value is what the outermost proxy saw from the client.
        scheme = proto.split(",")[0].strip().lower()
        if scheme in ("http", "https"):
            # Set before cloning, so the original request (which the response
            # hooks receive) and the clone the handlers see agree.
            request[https_key] = scheme == "https"
        remote = client_address(peer, request.headers.get("X-Forwarded-For", ""), networks)
        return await handler(request.clone(remote=remote))

    return forwarded
