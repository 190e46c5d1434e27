"""Every error under ``/api/`` is an RFC 9457 problem: never HTML, never a stack trace."""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa

from portal.apps.polls.queries import count_questions, create_question, get_question
from portal.apps.todos import queries
from portal.platform.api.endpoints import Call, Endpoint, install
from portal.platform.appspec import AppSpec
from portal.platform.auth.tables import users
from portal.platform.auth.tokens import revoke_token
from portal.platform.auth.users import User
from portal.platform.policy import JSON_API
from portal.settings import Settings
from portal.testing import MakeClient
from tests.apps.api.conftest import Api, body_of, fields_of, problem_of
from tests.conftest import INSTALLED_APPS

# 400


@pytest.mark.parametrize(
    "raw",
    [b'{"name": ', b"{'name': 'single quotes'}", b"", b"\xff\xfe", b'{"name": "a"} trailing'],
)
async def test_malformed_json_is_400(api: Api, conn: Any, raw: bytes) -> None:
    response = await api.post("/api/todos/", data=raw, headers={"Content-Type": "application/json"})

    problem = await problem_of(response, 400)
    assert problem["detail"] == "The body is not valid JSON."
    assert await queries.count_todos(conn) == 0


_JSON = {"Content-Type": "application/json"}


async def test_a_repeated_key_is_400_naming_it(api: Api, conn: Any) -> None:
    response = await api.post("/api/todos/", data=b'{"name": "a", "name": "b"}', headers=_JSON)

    problem = await problem_of(response, 400)
    assert fields_of(problem) == ["name"]
    assert "“name”" in problem["detail"]
    assert await queries.count_todos(conn) == 0


async def test_a_repeated_key_in_an_edit_changes_nothing(staff_api: Api, conn: Any) -> None:
    asked = await create_question(conn, "Unchanged?", ["Yes"])

    response = await staff_api.patch(
        f"/api/questions/{asked.id}",
        data=b'{"question_text": "a", "question_text": "b"}',
        headers=_JSON,
    )

    assert fields_of(await problem_of(response, 400)) == ["question_text"]
    assert (await get_question(conn, asked.id)).question_text == "Unchanged?"


async def test_a_repeated_key_deep_in_the_body_is_named_by_its_path(
    staff_api: Api, conn: Any
) -> None:
    raw = (
        b'{"question_text": "Q", "choices": '
        b'[{"choice_text": "a"}, {"choice_text": "b", "choice_text": "c"}]}'
    )

    response = await staff_api.post("/api/questions/", data=raw, headers=_JSON)

    assert fields_of(await problem_of(response, 400)) == ["choices.1.choice_text"]
    assert await count_questions(conn) == 0


# 401


async def test_missing_token_is_401_with_a_bearer_challenge(anonymous: Api) -> None:
    response = await anonymous.post("/api/todos/", json={"name": "x"})

    problem = await problem_of(response, 401)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    assert "Bearer" in problem["detail"]


@pytest.mark.parametrize("token", ["pt_not-a-real-token", "not-even-the-prefix"])
async def test_unknown_token_is_401_invalid_token(anonymous: Api, token: str) -> None:
    response = await anonymous.with_token(token).post("/api/todos/", json={"name": "x"})

    await problem_of(response, 401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize("header", ["Basic YWxpY2U6cGFzc3dvcmQ=", "Token abc", "Bearer", "Bearer "])
async def test_non_bearer_authorization_is_401_invalid_request(
    anonymous: Api, user_token: str, header: str
) -> None:
    response = await anonymous.post(
        "/api/todos/", json={"name": "x"}, headers={"Authorization": header}
    )

    await problem_of(response, 401)
    assert 'error="invalid_request"' in response.headers["WWW-Authenticate"]


async def test_bearer_scheme_is_case_insensitive(anonymous: Api, user_token: str) -> None:
    response = await anonymous.post(
        "/api/todos/", json={"name": "x"}, headers={"Authorization": f"bearer {user_token}"}
    )

    assert response.status == 201


async def test_revoked_token_is_401(api: Api, conn: Any, user: User) -> None:
    assert (await api.post("/api/todos/", json={"name": "before"})).status == 201
    (record,) = [row async for row in await conn.execute(sa.text("SELECT id FROM api_tokens"))]
    await revoke_token(conn, record.id)

    response = await api.post("/api/todos/", json={"name": "after"})

    await problem_of(response, 401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


async def test_token_of_a_deactivated_user_is_401(api: Api, conn: Any, user: User) -> None:
    await conn.execute(users.update().where(users.c.id == user.id).values(is_active=False))

    response = await api.post("/api/todos/", json={"name": "ghost"})

    await problem_of(response, 401)
    assert await queries.count_todos(conn) == 0


# 403


async def test_staff_operation_with_a_plain_users_token_is_403(api: Api) -> None:
    response = await api.post("/api/questions/", json={"question_text": "Mine?"})

    problem = await problem_of(response, 403)
    assert "staff" in problem["detail"]
    assert "WWW-Authenticate" not in response.headers


# 404


@pytest.mark.parametrize("path", ["/api/nope", "/api/todos/abc", "/api/todos/1/extra"])
async def test_unknown_path_under_the_api_is_a_404_problem(anonymous: Api, path: str) -> None:
    await problem_of(await anonymous.get(path), 404)


@pytest.mark.parametrize(
    "path",
    [
        "/api/todos/2147483648",
        "/api/todos/99999999999999999999",
        "/api/questions/2147483648",
        "/api/questions/1/choices/2147483648",
    ],
)
async def test_id_beyond_the_integer_column_is_404(anonymous: Api, path: str) -> None:
    await problem_of(await anonymous.get(path), 404)


async def test_id_beyond_the_integer_column_is_404_for_writes_too(api: Api) -> None:
    response = await api.patch("/api/todos/2147483648", json={"finished": True})

    await problem_of(response, 404)


# 405


async def test_unsupported_method_is_405_with_allow(api: Api, conn: Any) -> None:
    todo = await queries.create_todo(conn, "Put me")

    response = await api.request("PUT", f"/api/todos/{todo.id}", json={"name": "x"})

    await problem_of(response, 405)
    allowed = {method.strip() for method in response.headers["Allow"].split(",")}
    assert allowed == {"GET", "PATCH", "DELETE"}


async def test_post_to_a_read_only_path_is_405(api: Api) -> None:
    response = await api.post("/api/openapi.json", json={})

    await problem_of(response, 405)
    assert "GET" in response.headers["Allow"]


# 413


def _padded_body(size: int) -> bytes:
    """A valid todo body of exactly *size* bytes (JSON allows whitespace anywhere)."""
    head, tail = b'{"name": "padded"', b"}"
    return head + b" " * (size - len(head) - len(tail)) + tail


async def _chunks(body: bytes, size: int = 4096) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.fixture
async def small_limit(make_client: MakeClient, settings: Settings, user_token: str) -> Api:
    """The site with the API reading bodies of at most 100 bytes."""
    return Api(await make_client(settings.with_overrides(api_body_limit=100)), user_token)


async def test_body_over_the_configured_limit_is_413(small_limit: Api) -> None:
    response = await small_limit.post("/api/todos/", json={"name": "x" * 100})

    await problem_of(response, 413)


async def test_body_at_the_configured_limit_is_read(small_limit: Api) -> None:
    response = await small_limit.post(
        "/api/todos/", data=_padded_body(100), headers={"Content-Type": "application/json"}
    )

    assert response.status == 201


async def test_chunked_body_over_the_configured_limit_is_413(small_limit: Api) -> None:
    response = await small_limit.post(
        "/api/todos/",
        data=_chunks(_padded_body(101), size=10),
        headers={"Content-Type": "application/json"},
    )

    assert response.request_info.headers.get("Transfer-Encoding") == "chunked"
    await problem_of(response, 413)


async def test_body_over_the_default_mebibyte_is_413(api: Api, conn: Any) -> None:
    response = await api.post(
        "/api/todos/",
        data=io.BytesIO(_padded_body(1024 * 1024 * 11 // 10)),
        headers={"Content-Type": "application/json"},
    )

    assert "Content-Length" in response.request_info.headers
    problem = await problem_of(response, 413)
    assert "1048576" in problem["detail"]
    assert await queries.count_todos(conn) == 0


async def test_chunked_body_over_the_default_mebibyte_is_413(api: Api, conn: Any) -> None:
    response = await api.post(
        "/api/todos/",
        data=_chunks(_padded_body(1024 * 1024 * 11 // 10)),
        headers={"Content-Type": "application/json"},
    )

    assert "Content-Length" not in response.request_info.headers
    await problem_of(response, 413)
    assert await queries.count_todos(conn) == 0


async def test_gzip_body_that_inflates_past_the_limit_is_413(api: Api, conn: Any) -> None:
    bomb = gzip.compress(b" " * (20 * 1024 * 1024))  # 20 MiB in ~20 KiB

    response = await api.post(
        "/api/todos/",
        data=bomb,
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )

    await problem_of(response, 413)
    assert await queries.count_todos(conn) == 0


async def test_chunked_body_under_the_limit_is_read_whole(api: Api) -> None:
    # Many small chunks: the body must be read to its end, not up to the first chunk.
    response = await api.post(
        "/api/todos/",
        data=_chunks(_padded_body(512 * 1024), size=1000),
        headers={"Content-Type": "application/json"},
    )

    assert response.status == 201, await response.text()
    assert (await body_of(response))["name"] == "padded"


# 415


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
async def test_non_json_body_is_415(api: Api, conn: Any, content_type: str) -> None:
    response = await api.post(
        "/api/todos/", data=json.dumps({"name": "x"}), headers={"Content-Type": content_type}
    )

    await problem_of(response, 415)
    assert await queries.count_todos(conn) == 0


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "application/merge-patch+json"]
)
async def test_json_media_types_are_accepted(api: Api, content_type: str) -> None:
    response = await api.post(
        "/api/todos/", data=json.dumps({"name": "x"}), headers={"Content-Type": content_type}
    )

    assert response.status == 201


# 422


async def test_invalid_body_is_422_naming_each_field(api: Api) -> None:
    response = await api.post("/api/todos/", json={"name": "", "finished": "no", "extra": 1})

    problem = await problem_of(response, 422)
    assert sorted(fields_of(problem)) == ["extra", "finished", "name"]
    assert all(error["message"] for error in problem["errors"])


async def test_body_that_is_not_an_object_is_422(api: Api) -> None:
    response = await api.post("/api/todos/", json=["name"])

    assert fields_of(await problem_of(response, 422)) == ["body"]


async def test_invalid_query_is_422_naming_the_parameter(anonymous: Api) -> None:
    response = await anonymous.get("/api/todos/?after=-1")

    assert fields_of(await problem_of(response, 422)) == ["after"]


# 500


SECRET_DETAIL = "the launch codes are 0000"


async def _explode(call: Call) -> Any:
    raise RuntimeError(SECRET_DETAIL)


def _build_exploding(settings: Settings) -> Any:
    from aiohttp import web

    app = web.Application()
    install(
        app,
        [Endpoint("GET", "/boom", "boom", _explode, "Explode", "test")],
        app_name="exploding",
    )
    return app


EXPLODING_API = AppSpec(
    name="exploding",
    title="Exploding API",
    description="A test JSON API whose endpoint raises.",
    factory=_build_exploding,
    policy=JSON_API,
)


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
async def test_raising_endpoint_is_a_500_problem_without_a_trace(
    make_client: MakeClient, settings: Settings, debug: bool
) -> None:
    # Settings validation only knows the real apps; the test app is added directly.
    with_test_app = dataclasses.replace(
        settings, debug=debug, apps={**settings.apps, "exploding": "/exploding/"}
    )
    client = await make_client(with_test_app, apps=[*INSTALLED_APPS, EXPLODING_API])

    response = await client.get("/exploding/boom")

    body = await response.text()
    await problem_of(response, 500)
    for leak in ("Traceback", "RuntimeError", SECRET_DETAIL, ".py"):
        assert leak not in body


# Never HTML


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/api/nope", {}),
        ("GET", "/api/todos/999999", {}),
        ("GET", "/api/todos/?limit=0", {}),
        ("PUT", "/api/todos/1", {}),
        ("POST", "/api/todos/", {"json": {}}),
        ("POST", "/api/todos/", {"data": b"{", "headers": {"Content-Type": "application/json"}}),
        ("POST", "/api/todos/", {"data": "x", "headers": {"Content-Type": "text/plain"}}),
        ("POST", "/api/questions/", {"json": {}}),
        ("DELETE", "/api/questions/1", {"headers": {"Authorization": "Bearer pt_x"}}),
    ],
)
async def test_no_error_under_the_api_is_html(
    anonymous: Api, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    response = await anonymous.request(method, path, **kwargs)

    assert response.status >= 400
    assert response.content_type == "application/problem+json"
    assert "<html" not in (await response.text()).lower()
