"""The todos factory."""

from __future__ import annotations

import logging
from pathlib import Path

from aiohttp import web

from portal.apps.todos import queries
from portal.apps.todos.routes import setup_routes
from portal.platform.keys import config_of, db_key
from portal.platform.templating import setup_templates
from portal.settings import Settings

__all__ = ["create_app"]

log = logging.getLogger(__name__)
_HERE = Path(__file__).resolve().parent


async def _on_startup(app: web.Application) -> None:
    # The root's engine is open by now: its cleanup contexts run before
    # sub-app start-up hooks.
    async with config_of(app)[db_key].acquire() as conn:
        count = await queries.count_todos(conn)
    log.info("todos ready with %d todo(s)", count)


async def _on_cleanup(app: web.Application) -> None:
    log.info("todos stopped")


def create_app(settings: Settings) -> web.Application:
    """Build the todos ``web.Application``; the root mounts it at its prefix."""
    app = web.Application()
    setup_templates(app, _HERE / "templates")
    setup_routes(app)
    app.on_startup.append(_on_startup)
    app.on_cleanup.append(_on_cleanup)
    return app
