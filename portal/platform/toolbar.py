"""The debug toolbar: imported and set up only when debug is on."""

from __future__ import annotations

import aiohttp_debugtoolbar
from aiohttp import web

__all__ = ["setup_toolbar"]

_MAIN_ROUTE = "debugtoolbar.main"


async def _to_toolbar(request: web.Request) -> web.StreamResponse:
    raise web.HTTPPermanentRedirect(request.app.router[_MAIN_ROUTE].url_for())


def setup_toolbar(app: web.Application) -> None:
    """Install aiohttp-debugtoolbar on the root, outside the error pages.

    Outermost, so it wraps every sub-app and also decorates our own error
    pages; redirects are not intercepted, so post/redirect/get flows behave as
    in production.
    """
    aiohttp_debugtoolbar.setup(app, intercept_redirects=False)
    toolbar = app.middlewares.pop()  # setup() appended it innermost
    app.middlewares.insert(0, toolbar)
    # The toolbar answers at ``/_debugtoolbar`` only; the address we document
    # has a trailing slash, which the append-slash normaliser cannot remove.
    main = app.router[_MAIN_ROUTE].url_for()
    app.router.add_get(f"{main}/", _to_toolbar, name="debugtoolbar_slash")
