"""The debug toolbar and portal's panels: imported and set up only when debug is on.

aiohttp-debugtoolbar 0.6.1 provides the toolbar's page, its history and its
stock panels; portal brings the middleware that decides what is recorded
(:mod:`.middleware`), the SQL, templates and live-socket panels, redacted
headers and request variables (:mod:`.panels`, :mod:`.sockets`), and routes
and middlewares panels that cost nothing per request (:mod:`.inventory`).
"""

from __future__ import annotations

from pathlib import Path

import aiohttp_debugtoolbar
from aiohttp import web
from aiohttp_debugtoolbar import panels as stock
from aiohttp_debugtoolbar.middlewares import middleware as stock_middleware

from portal.platform.toolbar.inventory import MiddlewaresPanel, RoutesPanel
from portal.platform.toolbar.middleware import record_sent_status, toolbar_middleware
from portal.platform.toolbar.panels import HeadersPanel, RequestVarsPanel, SQLPanel, TemplatesPanel
from portal.platform.toolbar.sockets import SocketLog, SocketsPanel, socket_log_key

__all__ = ["SQLPanel", "setup_toolbar"]

_MAIN_ROUTE = "debugtoolbar.main"
_TEMPLATES = Path(__file__).resolve().parent.parent / "toolbar_templates"

#: Shown for each request, in this order.
REQUEST_PANELS = (
    SQLPanel,
    TemplatesPanel,
    HeadersPanel,
    RequestVarsPanel,
    stock.PerformanceDebugPanel,
    stock.TracebackPanel,
    stock.LoggingPanel,
    SocketsPanel,
)
#: The same for every request of the process.
GLOBAL_PANELS = (
    RoutesPanel,
    MiddlewaresPanel,
    stock.SettingsDebugPanel,
    stock.VersionDebugPanel,
)


async def _restore_root_app(request: web.Request, response: web.StreamResponse) -> None:
    """Leave each finished request pointing at the root app, for the toolbar's page.

    That page renders a stored request's panels with ``request.app``, which
    aiohttp leaves at the sub-app for a sub-app's page, where the toolbar's
    templates and routes are not: a 500. A plain Response is prepared after
    the handler has returned, so no handler sees the change.
    """
    if type(response) is web.Response and request.match_info.apps:
        request.match_info.current_app = request.match_info.apps[0]


async def _to_toolbar(request: web.Request) -> web.StreamResponse:
    raise web.HTTPPermanentRedirect(request.app.router[_MAIN_ROUTE].url_for())


def setup_toolbar(app: web.Application) -> None:
    """Install aiohttp-debugtoolbar on the root, outside the error pages.

    Outermost, so it wraps every sub-app and also decorates our own error
    pages; redirects are not intercepted, so post/redirect/get flows behave as
    in production.
    """
    aiohttp_debugtoolbar.setup(
        app,
        intercept_redirects=False,
        panels=REQUEST_PANELS,
        global_panels=GLOBAL_PANELS,
        extra_templates=str(_TEMPLATES),
    )
    # setup() appended the library's middleware innermost; ours replaces it, outermost.
    app.middlewares.remove(stock_middleware)
    app.middlewares.insert(0, toolbar_middleware)
    app[socket_log_key] = SocketLog()
    app.on_response_prepare.append(_restore_root_app)
    app.on_response_prepare.append(record_sent_status)
    # The toolbar answers at ``/_debugtoolbar`` only; the address we document
    # has a trailing slash, which the append-slash normaliser cannot remove.
    main = app.router[_MAIN_ROUTE].url_for()
    app.router.add_get(f"{main}/", _to_toolbar, name="debugtoolbar_slash")
