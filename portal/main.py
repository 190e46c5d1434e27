"""The application factories.

``create_app()`` is what ``python -m portal run`` and gunicorn load (debug off
unless ``PORTAL_DEBUG`` says otherwise); ``get_app()`` is what ``adev
runserver portal`` picks first (debug on unless ``PORTAL_DEBUG`` says otherwise).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from aiohttp import web

from portal.apps import api, polls, todos
from portal.platform import admin
from portal.platform.logs import setup_app_logging
from portal.platform.registry import AppSpec
from portal.platform.root import build_root
from portal.settings import Settings, load_settings

__all__ = ["INSTALLED_APPS", "create_app", "get_app"]

if "aiohttp_devtools.runserver" in sys.modules:
    # ``adev runserver portal`` is importing this module to find get_app():
    # portal's own watcher, addresses and server process take over (see devserver).
    from portal.platform.devserver import adopt_adev

    adopt_adev()

#: Every app portal mounts, in the order the home page lists them.
INSTALLED_APPS: Sequence[AppSpec] = (polls.spec, todos.spec, api.spec, admin.spec)


def create_app(
    settings: Settings | None = None, *, apps: Sequence[AppSpec] = INSTALLED_APPS
) -> web.Application:
    """The whole site: the root with every installed app mounted on it.

    Logging is set up here, not only by ``python -m portal run``: gunicorn and
    adev call this factory and nothing else of portal's.
    """
    if settings is None:
        settings = load_settings(debug_default=False)
    setup_app_logging(settings)
    return build_root(settings, apps)


def get_app() -> web.Application:
    """The development site (debug and the toolbar on), for ``adev runserver portal``."""
    return create_app(load_settings(debug_default=True))
