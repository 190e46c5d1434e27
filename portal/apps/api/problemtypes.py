"""The problem kinds' own URIs: each ``type`` a problem carries answers with what it means.

``GET <api prefix>problems/`` lists the kinds, ``GET <api prefix>problems/<kind>``
describes one: JSON for a program, a short page in the site's layout for a
browser (one that prefers ``text/html`` to JSON).
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import hdrs, web

from portal.appkit import (
    PROBLEM_KINDS,
    PROBLEM_TYPE,
    Call,
    ProblemKind,
    error_response,
    json_response,
    problem_kind_named,
    render,
    url_for,
)
from portal.apps.api.schemas import ProblemTypeDescription, ProblemTypeList

__all__ = ["openapi_paths", "problem_type", "problem_types"]

_BACKTICKS = re.compile(r"`([^`]*)`")


def _described(kind: ProblemKind, base: str) -> ProblemTypeDescription:
    return ProblemTypeDescription(
        type=base + kind.slug, title=kind.title, status=kind.status, description=kind.description
    )


def _quality(accept: str, wanted: str) -> float:
    """How much *accept* wants media type *wanted*: its own q, else its family's, else ``*/*``'s."""
    family = wanted.split("/")[0] + "/*"
    found: dict[str, float] = {}
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        found.setdefault(media.lower(), q)
    for media in (wanted, family, "*/*"):
        if media in found:
            return found[media]
    return 0.0


def _wants_html(request: web.Request) -> bool:
    """Whether the client prefers a page to JSON; a tie (``*/*``, or no Accept) is JSON."""
    accept = request.headers.get(hdrs.ACCEPT, "")
    return _quality(accept, "text/html") > _quality(accept, "application/json")


def _parts(description: str) -> list[tuple[str, bool]]:
    """*description* as (text, is_code) pieces: its backticked words become ``<code>``."""
    pieces = _BACKTICKS.split(description)
    return [(piece, index % 2 == 1) for index, piece in enumerate(pieces) if piece]


async def _negotiated(
    request: web.Request, json: Any, template: str, context: dict[str, Any]
) -> web.Response:
    if _wants_html(request):
        response = await render(request, template, context)
    else:
        response = json_response(json)
    # Caches keep the page and the JSON apart.
    response.headers[hdrs.VARY] = hdrs.ACCEPT
    return response


async def problem_types(call: Call) -> web.Response:
    """``GET <api>/problems/``: every kind."""
    base = call.url("problems")
    listing = ProblemTypeList(items=[_described(kind, base) for kind in PROBLEM_KINDS])
    kinds = [(item, _parts(item.description)) for item in listing.items]
    return await _negotiated(call.request, listing, "api/problems.html", {"kinds": kinds})


async def problem_type(request: web.Request) -> web.Response:
    """``GET <api>/problems/{kind}``: one kind."""
    kind = problem_kind_named(request.match_info["kind"])
    if kind is None:
        raise web.HTTPNotFound(text="There is no such kind of problem.")
    described = _described(kind, str(url_for(request, "api:problems")))
    context = {"kind": described, "parts": _parts(described.description)}
    return await _negotiated(request, described, "api/problem.html", context)


def openapi_paths(base: str, problem_ref: str, description_ref: str) -> dict[str, Any]:
    """The OpenAPI path item of ``problems/{kind}`` (not an endpoint: its part is no id).

    *base* is the list's path (``/api/problems/``); the refs point at the
    ``Problem`` and :class:`ProblemTypeDescription` schemas.
    """
    problem = {PROBLEM_TYPE: {"schema": {"$ref": problem_ref}}}
    operation = {
        "operationId": "problem_type",
        "summary": "What one kind of problem means",
        "description": (
            "The URI a problem document carries as `type`. JSON by default; a page for a "
            "client preferring `text/html`."
        ),
        "tags": ["api"],
        "parameters": [
            {
                "name": "kind",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "enum": [kind.slug for kind in PROBLEM_KINDS]},
            }
        ],
        "responses": {
            "200": {
                "description": "The kind's description.",
                "content": {
                    "application/json": {"schema": {"$ref": description_ref}},
                    "text/html": {"schema": {"type": "string"}},
                },
            },
            "404": {"description": "There is no such kind.", "content": problem},
            **{
                str(status): error_response(status, problem)
                for status in (429, 500)  # served without the database or the wrapper
            },
        },
    }
    return {base + "{kind}": {"get": operation}}
