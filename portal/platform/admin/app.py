"""The admin factory."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from portal.platform.admin.fields import to_display
from portal.platform.admin.guard import staff_only
from portal.platform.admin.routes import setup_routes
from portal.platform.templating import setup_templates
from portal.settings import Settings

__all__ = ["create_app"]

_HERE = Path(__file__).resolve().parent


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def create_app(settings: Settings) -> web.Application:
    """Build the admin ``web.Application``: every page behind the staff guard."""
    app = web.Application(middlewares=[staff_only])
    env = setup_templates(app, _HERE / "templates", reload=settings.debug)
    env.filters["display"] = to_display
    # Jinja's ``capitalize`` lowercases the rest: "API token" would read "Api token".
    env.filters["upper_first"] = _upper_first
    setup_routes(app)
    return app
