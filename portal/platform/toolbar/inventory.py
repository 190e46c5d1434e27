"""Global panels over what never changes while the process runs: routes and middlewares.

Both are built when the toolbar page shows them, never while a request is
served: the library's routes panel read every handler's source on every
request (~110 ms for portal's ~80 routes).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.web_urldispatcher import PrefixedSubAppResource
from aiohttp_debugtoolbar.panels import RoutesDebugPanel
from aiohttp_debugtoolbar.panels.base import DebugPanel

__all__ = ["AppMiddlewares", "MiddlewaresPanel", "RoutesPanel", "describe_middleware"]


def _apps(root: web.Application, before: int = 0) -> Iterator[tuple[str, web.Application, int]]:
    """*root* and every sub-app under it, depth first.

    Each with its prefix and how many middlewares (its parents') a request
    meets before its own.
    """
    yield "/", root, before
    for resource in root.router.resources():
        if isinstance(resource, PrefixedSubAppResource):
            child: web.Application = resource.get_info()["app"]
            for prefix, app, count in _apps(child, before + len(root.middlewares)):
                yield resource.canonical + prefix, app, count


@functools.cache
def handler_source(handler: Any) -> str:
    """*handler*'s source, read once per process (each read tokenises its file)."""
    try:
        return inspect.getsource(handler)
    except (OSError, TypeError):
        return ""


class RoutesPanel(RoutesDebugPanel):
    """Every route of the root and of each sub-app, read when shown, never per request."""

    def __init__(self, request: web.Request) -> None:
        # Not RoutesDebugPanel.__init__: it reads every handler's source.
        DebugPanel.__init__(self, request)  # type: ignore[no-untyped-call]

    def render_vars(self, request: web.Request) -> dict[str, Any]:
        routes = [
            {
                "name": route.name or "",
                "method": route.method,
                "info": sorted({"prefix": prefix, **route.get_info()}.items()),
                "handler": repr(route.handler),
                "source": handler_source(route.handler),
            }
            for prefix, app, _ in _apps(request.app)
            for route in app.router.routes()
            if not isinstance(route.resource, PrefixedSubAppResource)
        ]
        return {"routes": routes}


def describe_middleware(middleware: Any) -> str:
    """A readable, qualified name for *middleware*, however it was made.

    ``functools.partial`` objects name the function they wrap; a closure made
    by a factory (``timeout_middleware(settings)`` returning
    ``request_time_limit``) names both, where the library showed "impl",
    "factory" or "middleware".
    """
    if isinstance(middleware, functools.partial):
        return f"partial({describe_middleware(middleware.func)})"
    middleware = inspect.unwrap(middleware)
    qualname = getattr(middleware, "__qualname__", None)
    if qualname is None:  # a callable object
        qualname = type(middleware).__qualname__
        module = type(middleware).__module__
    else:
        module = getattr(middleware, "__module__", "?")
    factory, _, inner = qualname.rpartition(".<locals>.")
    if factory:
        return f"{module}.{inner} (made by {module}.{factory}())"
    return f"{module}.{qualname}"


@dataclass(frozen=True, slots=True)
class AppMiddlewares:
    """One app's middlewares, numbered in the order a request meets them."""

    prefix: str
    numbered: list[tuple[int, str]]
    ran: bool


class MiddlewaresPanel(DebugPanel):
    """The root's middlewares, then each sub-app's, in the order a request meets them."""

    name = "Middlewares"
    has_content = True
    template = "portal_middlewares.jinja2"
    title = "Middlewares, outermost first"
    nav_title = "Middlewares"

    def render_vars(self, request: web.Request) -> dict[str, Any]:
        # The apps the shown request went through; each sub-app's middlewares
        # run after the root's (and a nested app's after its parent's).
        through = {id(app) for app in self.request.match_info.apps}
        sections = []
        for prefix, app, before in _apps(request.app):
            names = [describe_middleware(m) for m in app.middlewares]
            numbered = list(enumerate(names, start=before + 1))
            sections.append(AppMiddlewares(prefix, numbered, id(app) in through))
        return {"sections": sections}
