"""The API factory."""

from __future__ import annotations

import logging

from aiohttp import web

from portal.appkit import Settings, install
from portal.apps.api.routes import ENDPOINTS

__all__ = ["create_app"]

log = logging.getLogger(__name__)


async def _on_startup(app: web.Application) -> None:
    log.info("api ready with %d operations", len(ENDPOINTS))


def create_app(settings: Settings) -> web.Application:
    """Build the API ``web.Application``; the root mounts it at its prefix."""
    app = web.Application()
    install(app, ENDPOINTS)
    app.on_startup.append(_on_startup)
    return app
