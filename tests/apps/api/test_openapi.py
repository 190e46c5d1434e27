"""``/api/openapi.json`` describes exactly the routes the API serves, under its prefix."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from portal.platform.api.endpoints import api_endpoints_key
from portal.platform.api.problems import PROBLEM_KINDS, PROBLEM_TYPE
from portal.platform.appspec import mounts_key
from portal.settings import Settings
from portal.testing import Client, MakeClient
from tests.apps.api.conftest import Api, body_of

WRITES = {"post", "put", "patch", "delete"}
REF_PREFIX = "#/components/schemas/"
#: The one documented path whose part is no id: each problem kind's URI.
PROBLEM_TYPE_PATH = "/api/problems/{kind}"
#: The API app's pages for people, which are no operation: the docs page (its
#: files are static routes).
PAGES = {"docs"}


async def _document(client: Client, path: str = "/api/openapi.json") -> dict[str, Any]:
    response = await client.get(path)
    assert response.status == 200
    assert response.content_type == "application/json"
    document: dict[str, Any] = await body_of(response)
    return document


@pytest.fixture
async def document(client: Client) -> dict[str, Any]:
    """The OpenAPI document the site serves."""
    return await _document(client)


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def _declared(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """The operations made from ``Endpoint`` records: all but a problem kind's description,
    a static page served without the database or the wrapper (no tag, no 503)."""
    return ((m, path, op) for m, path, op in _operations(document) if path != PROBLEM_TYPE_PATH)


def _documented(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method, path) for method, path, _ in _operations(document)}


def _routed(client: Client, app_name: str = "api") -> set[tuple[str, str]]:
    app = client.app[mounts_key].get(app_name).app
    return {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.method != "HEAD"
        and route.resource is not None
        and route.resource.name not in PAGES
        and not isinstance(route.resource, web.StaticResource)
    }


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


async def test_document_is_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"]
    assert document["info"]["version"]


async def test_every_routed_operation_is_documented_and_nothing_else(
    client: Client, document: dict[str, Any]
) -> None:
    routed = _routed(client)

    assert len(routed) == 18
    assert _documented(document) == routed


async def test_documented_operations_are_the_declared_endpoints(
    client: Client, document: dict[str, Any]
) -> None:
    app = client.app[mounts_key].get("api").app
    declared = {(e.method, "/api" + e.path) for e in app[api_endpoints_key]}

    assert _documented(document) == declared | {("GET", PROBLEM_TYPE_PATH)}


async def test_operation_ids_are_unique(document: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in _operations(document)]

    assert len(ids) == len(set(ids))


async def test_path_parameters_are_declared_as_integer_ids(document: dict[str, Any]) -> None:
    for _, path, operation in _operations(document):
        if path == PROBLEM_TYPE_PATH:
            continue
        in_path = {part[1:-1] for part in path.split("/") if part.startswith("{")}
        declared = {p["name"]: p for p in operation["parameters"] if p["in"] == "path"}
        assert set(declared) == in_path, path
        for parameter in declared.values():
            assert parameter["required"] is True
            assert parameter["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}


async def test_write_operations_declare_bearer_auth_and_401(document: dict[str, Any]) -> None:
    writes = [(m, p, op) for m, p, op in _operations(document) if m.lower() in WRITES]

    assert len(writes) == 8
    for method, path, operation in writes:
        # OpenAPI 3.1: a bearer requirement may list the roles it needs, here the scope.
        assert operation["security"] == [{"bearerAuth": ["write"]}], (method, path)
        assert "401" in operation["responses"], (method, path)
        assert "WWW-Authenticate" in operation["responses"]["401"]["headers"]
        assert "scope" in operation["responses"]["403"]["description"], (method, path)
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert "--scope read|write" in scheme["description"]
    assert "`read` (GET operations only; any other answers 403)" in scheme["description"]


async def test_read_operations_need_no_token(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        if method == "GET":
            assert "security" not in operation, path
            assert "401" not in operation["responses"], path


async def test_staff_and_write_operations_declare_403(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        # Staff only, or a read token: every write can be forbidden; of the reads,
        # only the question list, whose published=false is for staff.
        forbidden = method.lower() in WRITES or (method, path) == ("GET", "/api/questions/")
        assert ("403" in operation["responses"]) == forbidden, (method, path)


async def test_request_bodies_reference_component_schemas(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    bodies = [
        (path, op["requestBody"]) for _, path, op in _operations(document) if "requestBody" in op
    ]

    assert len(bodies) == 5
    for path, body in bodies:
        assert body["required"] is True
        ref = body["content"]["application/json"]["schema"]["$ref"]
        assert ref.startswith(REF_PREFIX), path
        assert ref.removeprefix(REF_PREFIX) in schemas


async def test_success_bodies_reference_component_schemas(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for method, path, operation in _operations(document):
        success = next(r for status, r in operation["responses"].items() if status < "300")
        content = success.get("content")
        if content is None:
            assert method in {"PATCH", "DELETE"}, (method, path)  # 204
            continue
        ref = content["application/json"]["schema"]["$ref"]
        assert ref.removeprefix(REF_PREFIX) in schemas, (method, path)


async def test_the_document_declares_itself_a_json_object(document: dict[str, Any]) -> None:
    # Without content a generated client types the document as Any (or drops it).
    success = document["paths"]["/api/openapi.json"]["get"]["responses"]["200"]
    ref = success["content"]["application/json"]["schema"]["$ref"]

    schema = document["components"]["schemas"][ref.removeprefix(REF_PREFIX)]
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is True


async def test_every_reference_resolves(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    refs = set(_refs(document))

    assert refs
    for ref in refs:
        assert ref.startswith(REF_PREFIX)
        assert ref.removeprefix(REF_PREFIX) in schemas


async def test_errors_are_documented_as_problem_json(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert list(response["content"]) == [PROBLEM_TYPE], (method, path, status)


async def test_creations_declare_201_with_location(document: dict[str, Any]) -> None:
    creations = [
        (path, op["responses"]) for m, path, op in _operations(document) if "201" in op["responses"]
    ]

    assert {path for path, _ in creations} == {
        "/api/todos/",
        "/api/questions/",
        "/api/questions/{question_id}/choices/",
    }
    for _, responses in creations:
        assert responses["201"]["headers"]["Location"]["required"] is True


async def test_lists_declare_limit_and_after(document: dict[str, Any]) -> None:
    for path in ("/api/todos/", "/api/questions/", "/api/questions/{question_id}/choices/"):
        parameters = {p["name"]: p["schema"] for p in document["paths"][path]["get"]["parameters"]}
        assert parameters["limit"]["maximum"] == 100
        assert parameters["limit"]["minimum"] == 1
        # An opaque cursor: the previous page's `cursor`.
        assert parameters["after"]["type"] == "string"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "/api/todos/",
            {
                "limit": "integer",
                "ordering": "string",
                "after": "string",
                "finished": "boolean",
                "name_contains": "string",
            },
        ),
        (
            "/api/questions/",
            {
                "limit": "integer",
                "ordering": "string",
                "after": "string",
                "pub_date_after": "string",
                "pub_date_before": "string",
                "question_text_contains": "string",
                "published": "boolean",
            },
        ),
    ],
)
async def test_list_filters_are_declared_with_types_and_descriptions(
    document: dict[str, Any], path: str, expected: dict[str, str]
) -> None:
    declared = document["paths"][path]["get"]["parameters"]
    parameters = {p["name"]: p for p in declared if p["in"] == "query"}

    assert {name: p["schema"]["type"] for name, p in parameters.items()} == expected
    assert all(p.get("description") for p in parameters.values()), path
    assert parameters["ordering"]["schema"]["enum"][0] == "id"


async def test_document_follows_a_moved_prefix(make_client: MakeClient, settings: Settings) -> None:
    client = await make_client(settings.with_overrides(apps={"api": "/v2/", "todos": "/tasks/"}))

    document = await _document(client, "/v2/openapi.json")

    assert document["paths"]
    assert all(path.startswith("/v2/") for path in document["paths"])
    assert _documented(document) == _routed(client)
    assert (await client.get("/api/openapi.json")).status == 404


async def test_index_links_to_the_document(anonymous: Api) -> None:
    index = await body_of(await anonymous.get("/api/"))

    assert (await anonymous.get(index["openapi"])).status == 200


async def test_index_schema_documents_each_key_the_index_answers(
    anonymous: Api, document: dict[str, Any]
) -> None:
    index = await body_of(await anonymous.get("/api/"))
    operation = document["paths"]["/api/"]["get"]
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]

    schema = document["components"]["schemas"][ref.removeprefix(REF_PREFIX)]
    assert set(schema["required"]) == set(schema["properties"]) == set(index)
    assert schema["additionalProperties"] == {"type": "string"}


async def test_every_operation_declares_the_server_s_own_failures(
    document: dict[str, Any],
) -> None:
    for method, path, operation in _declared(document):
        for status in ("500", "503", "504"):
            assert PROBLEM_TYPE in operation["responses"][status]["content"], (method, path)


async def test_every_503_declares_its_retry_after(document: dict[str, Any]) -> None:
    for method, path, operation in _declared(document):
        headers = operation["responses"]["503"]["headers"]
        assert headers["Retry-After"]["required"] is True, (method, path)


async def test_schema_descriptions_speak_to_clients_not_to_python(
    document: dict[str, Any],
) -> None:
    # A model's docstring is its schema's description: generated clients show it.
    for name, schema in document["components"]["schemas"].items():
        description = schema.get("description", "")
        assert ":meth:" not in description, name
        assert ":class:" not in description, name
        assert ":func:" not in description, name


async def test_reads_declare_etag_if_none_match_and_304(document: dict[str, Any]) -> None:
    for method, path, operation in _declared(document):
        if method != "GET":
            continue
        names = {parameter["name"] for parameter in operation["parameters"]}
        assert "If-None-Match" in names, path
        assert "ETag" in operation["responses"]["200"]["headers"], path
        assert "content" not in operation["responses"]["304"], path


async def test_changes_and_deletes_declare_if_match_and_412(document: dict[str, Any]) -> None:
    conditional = [
        (method, path, operation)
        for method, path, operation in _operations(document)
        if method in {"PATCH", "PUT", "DELETE"}
    ]
    assert conditional
    for method, path, operation in conditional:
        names = {parameter["name"] for parameter in operation["parameters"]}
        assert "If-Match" in names, (method, path)
        assert PROBLEM_TYPE in operation["responses"]["412"]["content"], (method, path)


async def test_patches_answer_204_or_the_resource_when_preferred(
    document: dict[str, Any],
) -> None:
    patches = [(path, op) for method, path, op in _operations(document) if method == "PATCH"]
    assert patches
    for path, operation in patches:
        names = {parameter["name"] for parameter in operation["parameters"]}
        assert "Prefer" in names, path
        assert "content" not in operation["responses"]["204"], path
        read = document["paths"][path]["get"]["responses"]["200"]["content"]
        assert operation["responses"]["200"]["content"] == read, path


async def test_creations_link_to_the_operations_on_what_they_made(
    document: dict[str, Any],
) -> None:
    ids = {op["operationId"]: (method, path) for method, path, op in _operations(document)}
    links = document["paths"]["/api/todos/"]["post"]["responses"]["201"]["links"]
    assert {ids[link["operationId"]] for link in links.values()} == {
        ("GET", "/api/todos/{todo_id}"),
        ("PATCH", "/api/todos/{todo_id}"),
        ("DELETE", "/api/todos/{todo_id}"),
    }
    assert all(link["parameters"] == {"todo_id": "$response.body#/id"} for link in links.values())
    choice = document["paths"]["/api/questions/{question_id}/choices/"]["post"]
    (get_choice,) = choice["responses"]["201"]["links"].values()
    assert get_choice["parameters"] == {
        "question_id": "$request.path.question_id",
        "choice_id": "$response.body#/id",
    }


async def test_every_operation_declares_the_rate_limits_429(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        refusal = operation["responses"]["429"]
        assert set(refusal["headers"]) == {"Retry-After", "RateLimit", "RateLimit-Policy"}, (
            method,
            path,
        )


async def test_the_problem_kind_path_takes_only_a_kind(document: dict[str, Any]) -> None:
    (parameter,) = document["paths"][PROBLEM_TYPE_PATH]["get"]["parameters"]

    assert (parameter["name"], parameter["in"], parameter["required"]) == ("kind", "path", True)
    assert parameter["schema"] == {"type": "string", "enum": [k.slug for k in PROBLEM_KINDS]}
