"""Each kind of problem has a stable ``type`` URI under the API, answering what it means."""

from __future__ import annotations

import dataclasses
import io
from typing import Any

import pytest
from aiohttp.test_utils import make_mocked_request

from portal.platform.api import problems
from portal.platform.api.problems import (
    BLANK,
    PROBLEM_KINDS,
    PROBLEM_TYPE,
    ProblemKind,
    default_kind,
    problem_response,
)
from portal.settings import Settings
from portal.testing import Client, MakeClient
from tests.apps.api.conftest import Api, body_of, problem_of

#: A request that meets each kind, and the kind it meets. ``read`` is sent with
#: a read token, ``user`` with a plain user's, ``none`` with none.
WHERE_EACH_HAPPENS: list[tuple[str, str, str, dict[str, Any], ProblemKind]] = [
    ("user", "POST", "/api/todos/", {"data": b"{", "headers": {"Content-Type": "application/json"}},
     problems.MALFORMED),
    ("none", "POST", "/api/todos/", {"json": {"name": "Tea"}}, problems.UNAUTHORIZED),
    ("user", "POST", "/api/questions/", {"json": {"question_text": "Tea?", "choices": ["Yes"]}},
     problems.FORBIDDEN),
    ("read", "POST", "/api/todos/", {"json": {"name": "Tea"}}, problems.INSUFFICIENT_SCOPE),
    ("none", "GET", "/api/todos/999999", {}, problems.NOT_FOUND),
    ("none", "GET", "/api/no/such/thing", {}, problems.NOT_FOUND),
    ("user", "PUT", "/api/todos/1", {"json": {}}, problems.METHOD_NOT_ALLOWED),
    ("user", "POST", "/api/todos/", {"json": {"name": "Taken"}}, problems.CONFLICT),
    ("user", "POST", "/api/todos/", {"data": io.BytesIO(b"x" * (2 * 1024 * 1024))},
     problems.PAYLOAD_TOO_LARGE),
    ("user", "POST", "/api/todos/", {"data": b"name=Tea",
     "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
     problems.UNSUPPORTED_MEDIA_TYPE),
    ("user", "POST", "/api/todos/", {"json": {"name": ""}}, problems.VALIDATION),
    ("none", "GET", "/api/todos/?limit=0", {}, problems.VALIDATION),
]  # fmt: skip


@pytest.mark.parametrize(
    ("who", "method", "path", "kwargs", "kind"),
    WHERE_EACH_HAPPENS,
    ids=[f"{case[4].slug}-{case[1]}-{case[2]}" for case in WHERE_EACH_HAPPENS],
)
async def test_each_kind_is_the_type_of_the_problem_it_names(
    client: Client,
    api_token: str,
    read_token: str,
    who: str,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    kind: ProblemKind,
) -> None:
    token = {"user": api_token, "read": read_token, "none": None}[who]
    api = Api(client, token)
    if kind is problems.CONFLICT:
        assert (await api.post("/api/todos/", json={"name": "Taken"})).status == 201

    response = await api.request(method, path, **kwargs)

    await problem_of(response, kind.status, kind)


async def test_validation_problems_name_each_field_at_fault(api: Api) -> None:
    response = await api.post("/api/todos/", json={"name": ""})

    problem = await problem_of(response, 422)
    assert [error["field"] for error in problem["errors"]] == ["name"]
    assert problem["errors"][0]["message"]


async def test_every_kind_answers_its_description_in_json(client: Client) -> None:
    for kind in PROBLEM_KINDS:
        uri = f"/api/problems/{kind.slug}"
        response = await client.get(uri)
        assert response.status == 200, uri
        assert response.content_type == "application/json", uri
        assert response.headers["Vary"] == "Accept"
        assert await response.json() == {
            "type": uri,
            "title": kind.title,
            "status": kind.status,
            "description": kind.description,
        }


async def test_every_kind_answers_a_browser_with_a_page_in_the_site_layout(
    client: Client,
) -> None:
    for kind in PROBLEM_KINDS:
        response = await client.get(
            f"/api/problems/{kind.slug}", headers={"Accept": "text/html,*/*;q=0.8"}
        )
        page = await response.text()
        assert response.status == 200, kind.slug
        assert response.content_type == "text/html", kind.slug
        assert f"<h1>{kind.title}</h1>" in page
        assert 'class="site-nav"' in page  # the shared base layout


async def test_json_wins_when_the_client_likes_both_alike(client: Client) -> None:
    response = await client.get("/api/problems/conflict", headers={"Accept": "*/*"})

    assert response.content_type == "application/json"


async def test_the_list_names_every_kind_in_order(client: Client) -> None:
    response = await client.get("/api/problems/")

    listing = await body_of(response)
    assert response.status == 200
    assert [item["type"] for item in listing["items"]] == [
        f"/api/problems/{kind.slug}" for kind in PROBLEM_KINDS
    ]
    for item in listing["items"]:
        assert (await client.get(item["type"])).status == 200


async def test_the_list_answers_a_browser_with_a_page_linking_each_kind(client: Client) -> None:
    response = await client.get("/api/problems/", headers={"Accept": "text/html"})

    page = await response.text()
    assert response.content_type == "text/html"
    for kind in PROBLEM_KINDS:
        assert f'href="/api/problems/{kind.slug}"' in page


async def test_an_unknown_kind_is_a_not_found_problem(client: Client) -> None:
    response = await client.get("/api/problems/no-such-kind")

    await problem_of(response, 404)


async def test_the_index_links_the_list(client: Client) -> None:
    index = await (await client.get("/api/")).json()

    assert index["problems"] == "/api/problems/"


async def test_the_uris_follow_a_moved_api(make_client: MakeClient, settings: Settings) -> None:
    client = await make_client(settings.with_overrides(apps={"api": "/v1/"}))

    problem = await problem_of(await client.get("/v1/todos/999999"), 404, prefix="/v1/")
    description = await client.get(problem["type"])
    listing = await (await client.get("/v1/problems/")).json()

    assert problem["type"] == "/v1/problems/not-found"
    assert (await description.json())["type"] == "/v1/problems/not-found"
    assert all(item["type"].startswith("/v1/problems/") for item in listing["items"])


async def test_a_status_no_kind_covers_is_about_blank_with_its_phrase(client: Client) -> None:
    request = make_mocked_request("GET", "/api/", app=client.app)

    response = problem_response(request, 418, "Short and stout.")

    assert default_kind(418) is None
    assert response.content_type == PROBLEM_TYPE
    assert response.body == (
        b'{"type":"about:blank","title":"I\'m a Teapot","status":418,"detail":"Short and stout."}'
    )


async def test_without_the_api_app_every_type_is_about_blank(
    make_client: MakeClient, settings: Settings
) -> None:
    entries = ("portal.apps.polls", "portal.apps.todos")
    client = await make_client(dataclasses.replace(settings, installed_apps=entries), apps=None)
    request = make_mocked_request("GET", "/", app=client.app)

    response = problem_response(request, 404)

    assert response.body == b'{"type":"about:blank","title":"Not Found","status":404}'


# The OpenAPI document


@pytest.fixture
async def document(client: Client) -> dict[str, Any]:
    response = await client.get("/api/openapi.json")
    assert response.status == 200
    result: dict[str, Any] = await response.json()
    return result


async def test_the_problem_schema_lists_every_kinds_uri(document: dict[str, Any]) -> None:
    type_ = document["components"]["schemas"]["Problem"]["properties"]["type"]

    assert type_["examples"] == [f"/api/problems/{k.slug}" for k in PROBLEM_KINDS] + [BLANK]
    assert type_["default"] == BLANK
    assert "problems/" in type_["description"]


async def test_every_error_response_names_the_kinds_it_may_be(document: dict[str, Any]) -> None:
    checked = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                media = response.get("content", {}).get(PROBLEM_TYPE)
                if media is None or path == "/api/problems/{kind}":
                    continue
                examples = media["examples"].values()
                assert examples, (method, path, status)
                for example in examples:
                    value = example["value"]
                    assert value["status"] == int(status), (method, path, status)
                    assert value["type"].startswith("/api/problems/"), (method, path, status)
                checked += 1

    assert checked > 30


@pytest.mark.parametrize(
    ("path", "method", "kinds"),
    [
        ("/api/todos/", "post", ["insufficient-scope"]),
        ("/api/questions/", "post", ["forbidden", "insufficient-scope"]),
    ],
)
async def test_a_403_names_forbidden_only_where_the_operation_is_for_staff(
    document: dict[str, Any], path: str, method: str, kinds: list[str]
) -> None:
    media = document["paths"][path][method]["responses"]["403"]["content"][PROBLEM_TYPE]

    assert list(media["examples"]) == kinds


async def test_a_validation_example_names_the_field_at_fault(document: dict[str, Any]) -> None:
    media = document["paths"]["/api/todos/"]["post"]["responses"]["422"]["content"][PROBLEM_TYPE]

    (example,) = media["examples"].values()
    assert example["value"]["errors"] == [{"field": "name", "message": "Field required"}]


async def test_the_problem_type_routes_are_described(document: dict[str, Any]) -> None:
    listing = document["paths"]["/api/problems/"]["get"]
    one = document["paths"]["/api/problems/{kind}"]["get"]

    assert listing["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert set(one["responses"]["200"]["content"]) == {"application/json", "text/html"}
    assert "ProblemTypeDescription" in document["components"]["schemas"]
