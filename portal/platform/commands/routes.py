"""``routes``: every route of the whole tree, with its section's policy.

The site is built exactly as the server builds it (the root factory with the
installed apps and the configured prefixes) but never started, so no database
is needed to list it.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.web_urldispatcher import AbstractResource, PrefixedSubAppResource, StaticResource

from portal.platform.commands.base import Command, command_settings, installed_apps

__all__ = ["RouteInfo", "command", "format_table", "list_routes"]

#: Methods in the order a resource's routes are listed (GET before the HEAD beside it).
_METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


@dataclass(frozen=True, slots=True)
class RouteInfo:
    """One route of the tree as ``routes`` shows it."""

    method: str
    #: The full path, mount prefix included, as a URL pattern (``/polls/{question_id}/``).
    path: str
    #: ``app:name`` for a sub-app's route, the bare name for the root's own.
    name: str
    #: The section's policy (:class:`portal.platform.policy.Policy`).
    auth: str
    csrf: bool
    errors: str
    #: Who may call it, where declared as data: an API endpoint's ``public``,
    #: ``user`` or ``staff``; ``-`` where the view (or a guard) decides.
    access: str
    #: The section's own middlewares around the handler (the admin's
    #: ``staff_only``), by name; the root's wrap every route and are not listed.
    middlewares: tuple[str, ...]
    #: The handler's qualified name (``portal.apps.polls.views.detail``).
    handler: str


def list_routes(root: web.Application) -> list[RouteInfo]:
    """Every route of *root* and of each sub-app mounted on it, in router order."""
    from portal.platform.appspec import mounts_key
    from portal.platform.policy import policy_key

    names = {id(mounted.app): mounted.spec.name for mounted in root.get(mounts_key, ())}

    def walk(
        app: web.Application, prefix: str, policy: Any, outer: tuple[str, ...]
    ) -> Iterator[RouteInfo]:
        policy = app.get(policy_key, policy)
        middlewares = outer if app is root else (*outer, *map(_name_of, app.middlewares))
        for resource in app.router.resources():
            if isinstance(resource, PrefixedSubAppResource):
                child = resource._app
                # A sub-app mounted other than through Mounts (the debug
                # toolbar) is named by its prefix.
                name = names.get(id(child)) or resource.canonical.strip("/")
                yield from walk(child, f"{name}:", policy, middlewares)
                continue
            endpoints = _endpoints(app)
            for route in sorted(resource, key=lambda r: _method_rank(r.method)):
                endpoint = endpoints.get((route.method, resource.name or ""))
                yield RouteInfo(
                    method=route.method,
                    path=_path(resource),
                    name=f"{prefix}{resource.name or ''}",
                    auth=policy.auth,
                    csrf=policy.csrf,
                    errors=policy.errors,
                    access=endpoint.access if endpoint is not None else "-",
                    middlewares=middlewares,
                    handler=_qualified(
                        endpoint.handler if endpoint is not None else route.handler, resource
                    ),
                )

    return list(walk(root, "", root[policy_key], ()))


def _name_of(thing: object) -> str:
    return getattr(thing, "__name__", None) or type(thing).__name__


def _method_rank(method: str) -> tuple[int, str]:
    order = _METHOD_ORDER.index(method) if method in _METHOD_ORDER else len(_METHOD_ORDER)
    return (order, method)


def _endpoints(app: web.Application) -> dict[tuple[str, str], Any]:
    """An API app's endpoints by (method, route name): their real handler and access."""
    from portal.platform.api.endpoints import api_endpoints_key

    return {(e.method, e.name): e for e in app.get(api_endpoints_key, ())}


def _path(resource: AbstractResource) -> str:
    if isinstance(resource, StaticResource):
        return f"{resource.canonical}/{{filename}}"
    return resource.canonical


def _qualified(handler: Callable[..., Any], resource: AbstractResource) -> str:
    if isinstance(resource, StaticResource):
        directory = Path(resource.get_info()["directory"])
        if directory.is_relative_to(Path.cwd()):
            directory = directory.relative_to(Path.cwd())
        return f"static files in {directory}/"
    handler = inspect.unwrap(handler)
    module = getattr(handler, "__module__", None)
    name = getattr(handler, "__qualname__", None) or type(handler).__qualname__
    return f"{module}.{name}" if module else name


_COLUMNS = ("method", "path", "name", "auth", "csrf", "errors", "access", "middlewares", "handler")


def _cells(route: RouteInfo) -> list[str]:
    return [
        route.method,
        route.path,
        route.name,
        route.auth,
        "csrf" if route.csrf else "-",
        route.errors,
        route.access,
        ",".join(route.middlewares) or "-",
        route.handler,
    ]


def format_table(routes: Sequence[RouteInfo]) -> str:
    """*routes* as aligned columns under a header, one route a line."""
    rows = [[column.upper() for column in _COLUMNS], *(_cells(route) for route in routes)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS) - 1)]
    # The last column is not padded: no trailing spaces.
    return "\n".join(
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    )


def _routes(args: argparse.Namespace) -> int:
    from portal.platform.root import build_root

    settings = command_settings(args)
    if settings.secret_key is None:
        # The session middleware is keyed from the secret; nothing is served
        # here, so any key builds the same routes.
        settings = dataclasses.replace(settings, secret_key=secrets.token_urlsafe(32))
    routes = list_routes(build_root(settings, installed_apps(settings)))
    if args.json:
        print(json.dumps([dataclasses.asdict(route) for route in routes], indent=2))
    else:
        print(format_table(routes))
    return 0


def _arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="a JSON list instead of a table")


command = Command(
    "routes", "list every route of the site and its section's policy", _routes, _arguments
)
