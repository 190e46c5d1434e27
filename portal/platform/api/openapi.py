"""The OpenAPI 3.1 document, generated from the endpoint declarations themselves.

Request and response schemas come from the same pydantic models the wrapper
validates with and the handlers serialise with; paths come from the same
records the router was built from, under the prefix the API is mounted at.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from portal.platform.api.endpoints import Endpoint, read_twins
from portal.platform.api.pagination import MAX_ID
from portal.platform.api.problems import (
    BLANK,
    FORBIDDEN,
    INSUFFICIENT_SCOPE,
    PROBLEM_KINDS,
    PROBLEM_TYPE,
    VALIDATION,
    Problem,
    ProblemKind,
    default_kind,
)

__all__ = ["error_response", "openapi_document"]

_REF = "#/components/schemas/{model}"

_BEARER_TEXT = (
    "A token from `python -m portal token create USERNAME [--scope read|write]` or the "
    "admin. Its scope is `write` (every operation its user may call) or `read` (GET "
    "operations only; any other answers 403). Each operation's security requirement "
    "names the scope it needs."
)

_ERROR_TEXT = {
    400: "The body is not valid JSON, or an object in it repeats a key.",
    401: "The token is missing, unknown or revoked, or its user is inactive.",
    403: "The token's user may not do this, or the token's scope does not allow it.",
    404: "There is no such resource.",
    409: "The change conflicts with existing data.",
    413: "The body is larger than the configured limit.",
    415: "The body is not JSON.",
    412: "`If-Match` names no current tag of the resource: it changed (or is gone) since "
    "that tag was read. Nothing was changed.",
    422: "The input is not valid; `errors` names each field at fault.",
    500: "The server failed unexpectedly; the error is logged, nothing is revealed.",
    503: "The database is unreachable or overloaded; retry later (see `Retry-After`).",
    504: "The request took longer than the server allows.",
    429: (
        "Too many requests from this token or client address (the `api_rate_limit` "
        "setting); try again after `Retry-After` seconds. Every counted answer carries "
        "`RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers)."
    ),
}

#: What a 429 says besides its problem document.
_RATE_LIMIT_HEADERS = {
    name: {"required": True, "schema": {"type": "string"}}
    for name in ("Retry-After", "RateLimit", "RateLimit-Policy")
}

#: What any operation may answer whatever it is: the server's own failures.
_SERVER_ERRORS = frozenset({500, 503, 504})

_ETAG = {
    "description": "The representation's entity tag: send it in `If-None-Match` to read "
    "again cheaply, or in `If-Match` to change the resource only if nobody else has.",
    "schema": {"type": "string"},
}

_IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "Tags of copies the client holds: if one is current, the answer is 304 "
    "with no body.",
    "schema": {"type": "string"},
}

_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "Change the resource only if its current tag is one of these (`*`: if it "
    "exists); otherwise 412 and nothing changes. Without it the change is unconditional.",
    "schema": {"type": "string"},
}

_PREFER = {
    "name": "Prefer",
    "in": "header",
    "required": False,
    "description": "`return=representation` answers 200 with the changed resource instead of "
    "204 (and `Preference-Applied`).",
    "schema": {"type": "string"},
}


#: The headers an error response always carries besides its problem document.
_ERROR_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}},
    429: _RATE_LIMIT_HEADERS,
    # The error middleware sends it with every 503 (db.faults.RETRY_AFTER_SECONDS).
    503: {
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "required": True,
            "schema": {"type": "string"},
        }
    },
}


def error_response(status: int, content: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI response object of an error *status* with *content* (its problem+json)."""
    error: dict[str, Any] = {"description": _ERROR_TEXT[status], "content": content}
    if status in _ERROR_HEADERS:
        error["headers"] = _ERROR_HEADERS[status]
    return error


def _error_statuses(endpoint: Endpoint, twin: Endpoint | None) -> set[int]:
    # Any operation may be rate limited.
    statuses = {*endpoint.errors, 429}
    if endpoint.body is not None:
        statuses |= {400, 413, 415, 422}
    if endpoint.query is not None:
        statuses.add(422)
    if endpoint.access != "public":
        statuses.add(401)
    if endpoint.access == "staff" or (endpoint.access != "public" and endpoint.scope == "write"):
        statuses.add(403)
    if endpoint.path_params:
        statuses.add(404)
    if twin is not None:
        statuses.add(412)
    return statuses | _SERVER_ERRORS


def _error_kinds(endpoint: Endpoint, status: int) -> tuple[ProblemKind, ...]:
    """The kinds of problem *endpoint* may answer with *status*."""
    if status == 403:
        staff_only = endpoint.access == "staff" or 403 in endpoint.errors
        kinds: tuple[ProblemKind, ...] = (FORBIDDEN,) if staff_only else ()
        if endpoint.access != "public" and endpoint.scope == "write":
            kinds += (INSUFFICIENT_SCOPE,)
        return kinds
    kind = default_kind(status)
    return () if kind is None else (kind,)


def _problem_content(
    kinds: Sequence[ProblemKind], schema: Any, problem_types: str | None
) -> dict[str, Any]:
    """The problem+json content of an error response, with one example per kind."""
    media: dict[str, Any] = {"schema": schema}
    if problem_types is not None and kinds:
        media["examples"] = {
            kind.slug: {"summary": kind.title, "value": _example(kind, problem_types)}
            for kind in kinds
        }
    return {PROBLEM_TYPE: media}


def _example(kind: ProblemKind, problem_types: str) -> dict[str, Any]:
    value: dict[str, Any] = {
        "type": problem_types + kind.slug,
        "title": kind.title,
        "status": kind.status,
    }
    if kind is VALIDATION:
        value["errors"] = [{"field": "name", "message": "Field required"}]
    return value


def _document_problem_type(schemas: dict[str, Any], problem_types: str | None) -> None:
    """List every kind's URI among the Problem schema's ``type`` examples."""
    if problem_types is None:
        return
    examples = [problem_types + kind.slug for kind in PROBLEM_KINDS]
    schemas[Problem.__name__]["properties"]["type"]["examples"] = [*examples, BLANK]


def _models(endpoints: Sequence[Endpoint]) -> list[tuple[Any, JsonSchemaMode]]:
    wanted: list[tuple[Any, JsonSchemaMode]] = [(Problem, "serialization")]
    for endpoint in endpoints:
        if endpoint.body is not None:
            wanted.append((endpoint.body, "validation"))
        if endpoint.response is not None:
            wanted.append((endpoint.response, "serialization"))
    return list(dict.fromkeys(wanted))


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=_REF)
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": {k: v for k, v in prop.items() if k not in ("title", "description")},
            **({"description": prop["description"]} if "description" in prop else {}),
        }
        for name, prop in schema["properties"].items()
    ]


def _links(endpoint: Endpoint, endpoints: Sequence[Endpoint]) -> dict[str, Any]:
    """A create's links to the operations on what it made (``$response.body#/id``).

    The new resource's URL is the create's path plus one id; its other ids
    are the create's own. Clients (and schemathesis' stateful runs) follow them.
    """
    links: dict[str, Any] = {}
    for other in endpoints:
        extra = other.path_params[len(endpoint.path_params) :]
        if not other.path.startswith(endpoint.path) or len(extra) != 1 or other is endpoint:
            continue
        if other.path != endpoint.path + "{" + extra[0] + "}":
            continue
        parameters = {name: f"$request.path.{name}" for name in endpoint.path_params}
        parameters[extra[0]] = "$response.body#/id"
        links[other.operation_id] = {
            "operationId": other.operation_id,
            "parameters": parameters,
            "description": f"{other.summary}: the one just made.",
        }
    return links


def _operation(
    endpoint: Endpoint,
    endpoints: Sequence[Endpoint],
    twin: Endpoint | None,
    refs: dict[tuple[Any, JsonSchemaMode], Any],
    problem_types: str | None = None,
) -> dict[str, Any]:
    method = endpoint.method.upper()
    parameters: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        }
        for name in endpoint.path_params
    ]
    if endpoint.query is not None:
        parameters += _query_parameters(endpoint.query)
    success: dict[str, Any] = {"description": endpoint.summary}
    if endpoint.response is not None:
        schema = refs[(endpoint.response, "serialization")]
        success["content"] = {"application/json": {"schema": schema}}
    headers: dict[str, Any] = {}
    if endpoint.location:
        headers["Location"] = {
            "description": "The URL of the new resource.",
            "required": True,
            "schema": {"type": "string"},
        }
        if links := _links(endpoint, endpoints):
            success["links"] = links
    if method == "GET":
        parameters.append(_IF_NONE_MATCH)
        headers["ETag"] = {**_ETAG, "required": True}
    responses: dict[str, Any] = {str(endpoint.status): success}
    if twin is not None:
        parameters.append(_IF_MATCH)
        if method != "DELETE":
            parameters.append(_PREFER)
            headers["ETag"] = {
                **_ETAG,
                "description": "The changed resource's tag (sent when `If-Match` or `Prefer` was).",
            }
            responses["200"] = {
                "description": f"{endpoint.summary}; the changed resource "
                "(`Prefer: return=representation`).",
                "headers": {
                    "ETag": {**_ETAG, "required": True},
                    "Preference-Applied": {"required": True, "schema": {"type": "string"}},
                },
                "content": {"application/json": {"schema": refs[(twin.response, "serialization")]}},
            }
    if headers:
        success["headers"] = headers
    if method == "GET":
        responses["304"] = {
            "description": "The copy whose tag was sent in `If-None-Match` is current.",
            "headers": {"ETag": {**_ETAG, "required": True}},
        }
    problem = refs[(Problem, "serialization")]
    for status in sorted(_error_statuses(endpoint, twin)):
        content = _problem_content(_error_kinds(endpoint, status), problem, problem_types)
        responses[str(status)] = error_response(status, content)
    operation: dict[str, Any] = {
        "operationId": endpoint.operation_id,
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
        "parameters": parameters,
        "responses": dict(sorted(responses.items())),
    }
    if endpoint.description:
        operation["description"] = endpoint.description
    if endpoint.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(endpoint.body, "validation")]}},
        }
    if endpoint.access != "public":
        # OpenAPI 3.1 lets a non-OAuth requirement list the roles it needs.
        operation["security"] = [{"bearerAuth": [endpoint.scope]}]
    return operation


def openapi_document(
    endpoints: Iterable[Endpoint],
    *,
    prefix: str,
    title: str,
    version: str,
    description: str,
    problem_types: str | None = None,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of *endpoints* mounted at *prefix* (``/api/``).

    With *problem_types* (the path listing the problem kinds, ``/api/problems/``)
    the Problem schema lists each kind's ``type`` URI, and each error response
    gives an example of each kind it may be.
    """
    endpoints = list(endpoints)
    refs, top = models_json_schema(_models(endpoints), ref_template=_REF)
    paths: dict[str, dict[str, Any]] = {}
    twins = read_twins(endpoints)
    for endpoint in endpoints:
        path = prefix.rstrip("/") + endpoint.path
        paths.setdefault(path, {})[endpoint.method.lower()] = _operation(
            endpoint, endpoints, twins.get(endpoint), refs, problem_types
        )
    schemas = top.get("$defs", {})
    _document_problem_type(schemas, problem_types)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": _BEARER_TEXT,
                }
            },
        },
    }
