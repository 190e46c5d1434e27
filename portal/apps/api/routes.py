"""The API's own operations and pages: its index, its OpenAPI document, its docs
page and the descriptions of its problem kinds.

Every other operation is an installed app's (its spec's ``api``); the factory
serves them after these. The router and the OpenAPI document both read the
same records, so the document cannot drift from what is served.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from aiohttp import web

from portal.appkit import Endpoint
from portal.apps.api import docs, problemtypes, views
from portal.apps.api.schemas import OpenApiDocument, ProblemTypeList, index_model

__all__ = ["OPENAPI", "PROBLEM_TYPES", "index_endpoint", "listed", "setup_pages"]

_STATIC = Path(__file__).resolve().parent / "static"

#: ``GET /api/openapi.json``.
OPENAPI = Endpoint(
    "GET",
    "/openapi.json",
    "openapi",
    views.openapi,
    "This document",
    "api",
    response=OpenApiDocument,
)

#: ``GET /api/problems/``.
PROBLEM_TYPES = Endpoint(
    "GET",
    "/problems/",
    "problems",
    problemtypes.problem_types,
    "Every kind of problem, by its type URI",
    "api",
    response=ProblemTypeList,
    description=(
        "Each problem document's `type` is one of these URIs (or `about:blank`). JSON by "
        "default; a page for a client preferring `text/html`."
    ),
)

#: The index's entries that are no operation: the docs page, by route name.
PAGES = {"docs": "Interactive documentation: try the API in a browser"}


def listed(endpoints: Iterable[Endpoint]) -> tuple[Endpoint, ...]:
    """The operations an index links: every ``GET`` without path parameters (the lists)."""
    return tuple(e for e in endpoints if e.method == "GET" and not e.path_params)


def index_endpoint(links: Mapping[str, str]) -> Endpoint:
    """``GET /api/``, answering the URL of each of *links* (route name to summary)."""
    return Endpoint(
        "GET",
        "/",
        "index",
        views.index,
        "Where each resource lives",
        "api",
        response=index_model(links),
    )


def setup_pages(app: web.Application) -> None:
    """The routes that are no API operation: the docs page with its files, and each
    problem kind's URI (described in the document by hand: its part is no id)."""
    app.router.add_get("/docs", docs.docs, name="docs")
    app.router.add_static(docs.SWAGGER_UI_PREFIX, docs.SWAGGER_UI, name="swagger_ui")
    app.router.add_static("/static/", _STATIC, name="static", append_version=True)
    app.router.add_route(
        "GET", "/problems/{kind:[a-z][a-z-]*}", problemtypes.problem_type, name="problems.item"
    )
