"""Every operation of the API, declared once: the router and the OpenAPI document both read this."""

from __future__ import annotations

from portal.appkit import Endpoint
from portal.apps.api import polls, todos, views
from portal.apps.api.schemas import ApiIndex

__all__ = ["ENDPOINTS"]

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "GET", "/", "index", views.index, "Where each resource lives", "api", response=ApiIndex
    ),
    Endpoint("GET", "/openapi.json", "openapi", views.openapi, "This document", "api"),
    *todos.ENDPOINTS,
    *polls.ENDPOINTS,
)
