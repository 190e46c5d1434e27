"""The application factories.

``create_app()`` is what gunicorn loads (debug off unless ``PORTAL_DEBUG`` says
otherwise; ``python -m portal run`` builds the same site); ``get_app()`` is
what ``adev runserver portal`` picks first (debug on unless ``PORTAL_DEBUG``
says otherwise). Both mount the apps the ``installed_apps`` setting names.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from aiohttp import web

from portal.platform.appspec import AppSpec
from portal.platform.root import build_site
from portal.settings import Settings, load_settings

__all__ = ["create_app", "get_app"]

if "aiohttp_devtools.runserver" in sys.modules:
    # ``adev runserver portal`` is importing this module to find get_app():
    # portal's own watcher, addresses and server process take over (see devserver).
    from portal.platform.serve.development import adopt_adev

    adopt_adev()


def create_app(
    settings: Settings | None = None, *, apps: Sequence[AppSpec] | None = None
) -> web.Application:
    """The whole site: the root with every installed app mounted on it.

    The apps are those the ``installed_apps`` setting names, unless *apps*
    gives the specs themselves (tests mount apps of their own).

    Logging is set up here, not only by ``python -m portal run``: gunicorn and
    adev call this factory and nothing else of portal's.
    """
    if settings is None:
        settings = load_settings(debug_default=False)
    return build_site(settings, apps)


def get_app() -> web.Application:
    """The development site (debug and the toolbar on), for ``adev runserver portal``."""
    return create_app(load_settings(debug_default=True))
