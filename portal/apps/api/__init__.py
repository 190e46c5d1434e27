"""The JSON API under ``/api/``: todos and polls for programs.

Reads are open; writes need ``Authorization: Bearer <token>``. Every error is
``application/problem+json``. ``/api/openapi.json`` is generated from the
same endpoint declarations the router is built from.
"""

from __future__ import annotations

from portal.appkit import JSON_API, AppSpec
from portal.apps.api.app import create_app

__all__ = ["create_app", "spec"]

spec = AppSpec(
    name="api",
    title="API",
    description="JSON for programs: todos and polls, with an OpenAPI document.",
    factory=create_app,
    policy=JSON_API,
    requires=("polls", "todos"),
)
