"""The root's own pages: home, liveness and readiness."""

from __future__ import annotations

from aiohttp import web

from portal.platform.db import ping
from portal.platform.keys import db_key
from portal.platform.templating import render

__all__ = ["healthz", "home", "readyz"]


async def home(request: web.Request) -> web.Response:
    """The mounted apps with links, and who is logged in."""
    return await render(request, "home.html")


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process answers. Never touches the database."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: the database answers; 503 otherwise, so a balancer skips us."""
    if await ping(request.config_dict[db_key]):
        return web.json_response({"status": "ready", "database": "ok"})
    return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
