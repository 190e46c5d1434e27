"""The JSON API under ``/api/``: every installed app's operations, for programs.

Each app declares its own operations (``AppSpec.api``); this app serves those
of the installed apps, with an index of their lists and ``/api/openapi.json``,
generated from the same endpoint declarations the router is built from, and
``/api/docs``, Swagger UI over that document. Reads are open; writes need
``Authorization: Bearer <token>``. Every error is ``application/problem+json``,
its ``type`` one of the kinds described under ``/api/problems/``.
"""

from __future__ import annotations

from portal.appkit import JSON_API, AppSpec
from portal.apps.api.app import create_app

__all__ = ["create_app", "spec"]

spec = AppSpec(
    name="api",
    title="API",
    description="JSON for programs: every installed app's data, with an OpenAPI document.",
    factory=create_app,
    policy=JSON_API,
    home_links=(("docs", "Interactive docs"),),
)
