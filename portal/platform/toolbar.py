"""The debug toolbar and its SQL panel: imported and set up only when debug is on."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp_debugtoolbar
from aiohttp import web
from aiohttp_debugtoolbar.panels.base import DebugPanel

from portal.platform.sqltrace import QueryRecord, recording

__all__ = ["SQLPanel", "setup_toolbar"]

_MAIN_ROUTE = "debugtoolbar.main"
_TEMPLATES = Path(__file__).resolve().parent / "toolbar_templates"


class SQLPanel(DebugPanel):
    """Every statement the request ran through the shared engine.

    With its parameters and duration, the total, and the statements that ran
    more than once (the N+1 smell).
    """

    name = "SQL"
    has_content = True
    template = "portal_sql.jinja2"
    title = "SQL queries"
    nav_title = "SQL"

    def __init__(self, request: web.Request) -> None:
        super().__init__(request)  # type: ignore[no-untyped-call]
        self._records: list[QueryRecord] = []

    def wrap_handler(self, handler: Any, context_switcher: Any) -> Any:
        async def traced(request: web.Request) -> web.StreamResponse:
            async with recording() as records:
                try:
                    return await handler(request)  # type: ignore[no-any-return]
                finally:
                    self._records = list(records)

        return traced

    async def process_response(self, response: web.StreamResponse) -> None:
        counts = Counter(record.sql for record in self._records)
        total = sum(record.duration_ms for record in self._records)
        self.data = {
            "queries": self._records,
            "total_ms": total,
            "repeated": [(sql, n) for sql, n in counts.most_common() if n > 1],
        }
        self.nav_subtitle = f"{len(self._records)} in {total:.1f} ms"


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
        app, intercept_redirects=False, extra_panels=[SQLPanel], extra_templates=str(_TEMPLATES)
    )
    toolbar = app.middlewares.pop()  # setup() appended it innermost
    app.middlewares.insert(0, toolbar)
    app.on_response_prepare.append(_restore_root_app)
    # The toolbar answers at ``/_debugtoolbar`` only; the address we document
    # has a trailing slash, which the append-slash normaliser cannot remove.
    main = app.router[_MAIN_ROUTE].url_for()
    app.router.add_get(f"{main}/", _to_toolbar, name="debugtoolbar_slash")
