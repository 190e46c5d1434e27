"""The API factory: its own documents and pages, then every installed app's operations."""

from __future__ import annotations

import logging
from pathlib import Path

from aiohttp import web

from portal.appkit import Settings, api_endpoints_key, install, installed_apps, setup_templates
from portal.apps.api.routes import (
    OPENAPI,
    PAGES,
    PROBLEM_TYPES,
    index_endpoint,
    listed,
    setup_pages,
)
from portal.apps.api.views import index_links_key

__all__ = ["create_app"]

log = logging.getLogger(__name__)

_HERE = Path(__file__).resolve().parent


async def _on_startup(app: web.Application) -> None:
    log.info("api ready with %d operations", len(app[api_endpoints_key]))


def create_app(settings: Settings) -> web.Application:
    """Build the API ``web.Application``; the root mounts it at its prefix.

    The apps *settings* install bring their operations (``AppSpec.api``), in
    the installed order: an app that is not installed has no route here, no
    line in the index and no operation in ``openapi.json``.
    """
    contributed = tuple(endpoint for spec in installed_apps(settings) for endpoint in spec.api)
    # The apps' lists first, in the installed order, then the documents describing them.
    links = {e.name: e.summary for e in (*listed(contributed), OPENAPI)}
    links.update(PAGES)
    links[PROBLEM_TYPES.name] = PROBLEM_TYPES.summary
    app = web.Application()
    setup_templates(app, _HERE / "templates", reload=settings.debug)
    app[index_links_key] = tuple(links)
    install(app, (index_endpoint(links), OPENAPI, PROBLEM_TYPES, *contributed))
    setup_pages(app)
    app.on_startup.append(_on_startup)
    return app
