"""The root's own pages: home, liveness and readiness."""

from __future__ import annotations

from aiohttp import web

from portal.platform.db.engine import UNREACHABLE, db_key, ping
from portal.platform.templating import render

__all__ = ["healthz", "home", "readyz"]


async def home(request: web.Request) -> web.Response:
    """The mounted apps with links, and who is logged in."""
    return await render(request, "home.html")


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process answers. Never touches the database."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: the database answers with an up-to-date schema; 503 otherwise.

    A balancer skips a 503 instance. ``database`` says why: ``unreachable``,
    or ``schema not up to date`` (the details are in the server's log).
    """
    engine = request.config_dict[db_key]
    reason: str | None = engine.unavailable
    if reason is None:
        if await ping(engine):
            return web.json_response({"status": "ready", "database": "ok"})
        reason = UNREACHABLE
    return web.json_response({"status": "unavailable", "database": reason}, status=503)
