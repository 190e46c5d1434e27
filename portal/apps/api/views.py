"""The API's own documents: its index and its OpenAPI description."""

from __future__ import annotations

from aiohttp import web

from portal.appkit import Call, Endpoint, api_endpoints_key, json_response, openapi_document
from portal.apps.api import problemtypes
from portal.apps.api.schemas import ApiIndex, ProblemTypeDescription

__all__ = ["index", "index_links_key", "openapi"]

#: The route names ``GET /api/`` answers the URLs of, in order (set by the factory).
index_links_key: web.AppKey[tuple[str, ...]] = web.AppKey("index_links_key")

_DESCRIPTION = (
    "Reads are open; writes need `Authorization: Bearer <token>` "
    "(`python -m portal token create USERNAME`). Errors are RFC 9457 "
    "`application/problem+json`; each one's `type` names its kind, a URI under "
    "`problems/` that describes it. Lists are keyset-paginated: follow `next`."
)
_REF = "#/components/schemas/"


async def index(call: Call) -> web.Response:
    names = call.request.app[index_links_key]
    return json_response(ApiIndex({name: call.url(name) for name in names}))


async def openapi(call: Call) -> web.Response:
    endpoints: tuple[Endpoint, ...] = call.request.app[api_endpoints_key]
    problems = call.url("problems")
    document = openapi_document(
        endpoints,
        prefix=call.url("index"),
        title="portal API",
        version="1",
        description=_DESCRIPTION,
        problem_types=problems,
    )
    # One kind's URI is described here, as it is no endpoint; the list's
    # schema brought the description's into the components.
    description = f"{_REF}{ProblemTypeDescription.__name__}"
    document["paths"].update(problemtypes.openapi_paths(problems, f"{_REF}Problem", description))
    return web.json_response(document)
