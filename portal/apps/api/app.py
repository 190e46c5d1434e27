"""The API factory: its own documents, then every installed app's operations."""

from __future__ import annotations

import logging

from aiohttp import web

from portal.appkit import Settings, api_endpoints_key, install, installed_apps
from portal.apps.api.routes import OPENAPI, index_endpoint, listed
from portal.apps.api.views import index_links_key

__all__ = ["create_app"]

log = logging.getLogger(__name__)


async def _on_startup(app: web.Application) -> None:
    log.info("api ready with %d operations", len(app[api_endpoints_key]))


def create_app(settings: Settings) -> web.Application:
    """Build the API ``web.Application``; the root mounts it at its prefix.

    The apps *settings* install bring their operations (``AppSpec.api``), in
    the installed order: an app that is not installed has no route here, no
    line in the index and no operation in ``openapi.json``.
    """
    contributed = tuple(endpoint for spec in installed_apps(settings) for endpoint in spec.api)
    # The apps' lists first, in the installed order, then the document describing them.
    links = (*listed(contributed), OPENAPI)
    app = web.Application()
    app[index_links_key] = tuple(link.name for link in links)
    install(app, (index_endpoint(links), OPENAPI, *contributed))
    app.on_startup.append(_on_startup)
    return app
