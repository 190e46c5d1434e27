"""The API's own operations: its index and its OpenAPI document.

Every other operation is an installed app's (its spec's ``api``); the factory
serves them after these. The router and the OpenAPI document both read the
same records, so the document cannot drift from what is served.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from portal.appkit import Endpoint
from portal.apps.api import views
from portal.apps.api.schemas import OpenApiDocument, index_model

__all__ = ["OPENAPI", "index_endpoint", "listed"]

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


def listed(endpoints: Iterable[Endpoint]) -> tuple[Endpoint, ...]:
    """The operations an index links: every ``GET`` without path parameters (the lists)."""
    return tuple(e for e in endpoints if e.method == "GET" and not e.path_params)


def index_endpoint(links: Sequence[Endpoint]) -> Endpoint:
    """``GET /api/``, answering the URL of each of *links* by its route name."""
    return Endpoint(
        "GET",
        "/",
        "index",
        views.index,
        "Where each resource lives",
        "api",
        response=index_model({link.name: link.summary for link in links}),
    )
