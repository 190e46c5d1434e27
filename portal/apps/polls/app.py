"""The polls factory."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from portal.appkit import Settings, log_lifecycle, setup_templates
from portal.apps.polls import queries
from portal.apps.polls.routes import setup_routes

__all__ = ["create_app"]

_HERE = Path(__file__).resolve().parent


def create_app(settings: Settings) -> web.Application:
    """Build the polls ``web.Application``; the root mounts it at its prefix."""
    app = web.Application()
    setup_templates(app, _HERE / "templates", reload=settings.debug)
    setup_routes(app)
    log_lifecycle(app, "polls", "question(s)", queries.count_questions)
    return app
