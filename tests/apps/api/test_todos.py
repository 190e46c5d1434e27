"""``/api/todos/``: the todo tutorial's contract, step by step, and a moved prefix."""

from __future__ import annotations

from typing import Any

import pytest

from portal.apps.todos import queries
from portal.apps.todos.queries import Todo
from portal.settings import Settings
from portal.testing import MakeClient
from tests.apps.api.conftest import Api, body_of, fields_of, problem_of

# Reading


async def test_list_is_a_page_of_todos_in_id_order(api: Api, conn: Any) -> None:
    first = await queries.create_todo(conn, "First")
    second = await queries.create_todo(conn, "Second", finished=True)

    response = await api.get("/api/todos/")

    assert response.status == 200
    assert response.content_type == "application/json"
    assert await body_of(response) == {
        "items": [
            {"id": first.id, "name": "First", "finished": False, "url": f"/api/todos/{first.id}"},
            {"id": second.id, "name": "Second", "finished": True, "url": f"/api/todos/{second.id}"},
        ],
        "next": None,
        "cursor": None,
    }


async def test_list_needs_no_token(anonymous: Api, conn: Any) -> None:
    await queries.create_todo(conn, "Open to all")

    response = await anonymous.get("/api/todos/")

    assert response.status == 200
    assert [item["name"] for item in (await body_of(response))["items"]] == ["Open to all"]


async def test_get_one_returns_the_todo(anonymous: Api, conn: Any) -> None:
    todo = await queries.create_todo(conn, "Read me")

    response = await anonymous.get(f"/api/todos/{todo.id}")

    assert response.status == 200
    assert await body_of(response) == {
        "id": todo.id,
        "name": "Read me",
        "finished": False,
        "url": f"/api/todos/{todo.id}",
    }


# Creating


async def test_create_answers_201_with_the_new_todo(api: Api, conn: Any) -> None:
    response = await api.post("/api/todos/", json={"name": "Write tests"})

    assert response.status == 201
    created = await body_of(response)
    (stored,) = await queries.list_todos(conn)
    assert created == {
        "id": stored.id,
        "name": "Write tests",
        "finished": False,
        "url": f"/api/todos/{stored.id}",
    }


async def test_create_location_is_the_new_todos_url(api: Api) -> None:
    response = await api.post("/api/todos/", json={"name": "Locate me"})

    created = await body_of(response)
    assert response.headers["Location"] == created["url"]
    fetched = await api.get(response.headers["Location"])
    assert fetched.status == 200
    assert await body_of(fetched) == created


async def test_create_may_set_finished(api: Api, conn: Any) -> None:
    response = await api.post("/api/todos/", json={"name": "Done already", "finished": True})

    assert response.status == 201
    assert (await body_of(response))["finished"] is True
    assert [(t.name, t.finished) for t in await queries.list_todos(conn)] == [
        ("Done already", True)
    ]


async def test_create_strips_surrounding_whitespace(api: Api) -> None:
    response = await api.post("/api/todos/", json={"name": "  Padded  "})

    assert response.status == 201
    assert (await body_of(response))["name"] == "Padded"


async def test_create_without_a_token_is_401_and_adds_nothing(anonymous: Api, conn: Any) -> None:
    response = await anonymous.post("/api/todos/", json={"name": "Sneaky"})

    await problem_of(response, 401)
    assert await queries.count_todos(conn) == 0


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="missing"),
        pytest.param({"name": ""}, id="empty"),
        pytest.param({"name": "   \t\n "}, id="whitespace-only"),
        pytest.param({"name": None}, id="null"),
        pytest.param({"name": 42}, id="number"),
        pytest.param({"name": ["list"]}, id="list"),
        pytest.param({"name": "x" * (queries.NAME_MAX_LENGTH + 1)}, id="too-long"),
    ],
)
async def test_create_with_a_bad_name_is_422_naming_name(
    api: Api, conn: Any, body: dict[str, Any]
) -> None:
    response = await api.post("/api/todos/", json=body)

    problem = await problem_of(response, 422)
    assert fields_of(problem) == ["name"]
    assert await queries.count_todos(conn) == 0


async def test_create_with_a_non_bool_finished_is_422_naming_finished(api: Api) -> None:
    response = await api.post("/api/todos/", json={"name": "Typed", "finished": "yes"})

    assert fields_of(await problem_of(response, 422)) == ["finished"]


async def test_create_with_a_duplicate_name_is_409_naming_name(api: Api, conn: Any) -> None:
    await queries.create_todo(conn, "Only once")

    response = await api.post("/api/todos/", json={"name": "Only once"})

    problem = await problem_of(response, 409)
    assert fields_of(problem) == ["name"]
    assert "Only once" in problem["detail"]
    assert await queries.count_todos(conn) == 1


# Changing and deleting


async def test_patch_finished_answers_204_with_no_body(api: Api, conn: Any) -> None:
    todo = await queries.create_todo(conn, "Finish me")

    response = await api.patch(f"/api/todos/{todo.id}", json={"finished": True})

    assert response.status == 204
    assert await response.read() == b""


async def test_patch_finished_is_visible_afterwards(api: Api, conn: Any) -> None:
    todo = await queries.create_todo(conn, "Finish me")

    await api.patch(f"/api/todos/{todo.id}", json={"finished": True})

    assert (await body_of(await api.get(f"/api/todos/{todo.id}")))["finished"] is True
    await api.patch(f"/api/todos/{todo.id}", json={"finished": False})
    assert (await body_of(await api.get(f"/api/todos/{todo.id}")))["finished"] is False


@pytest.mark.parametrize("finished", ["true", 1, 0, None, [], {}])
async def test_patch_with_a_non_bool_finished_is_422(api: Api, conn: Any, finished: Any) -> None:
    todo = await queries.create_todo(conn, "Strict")

    response = await api.patch(f"/api/todos/{todo.id}", json={"finished": finished})

    assert fields_of(await problem_of(response, 422)) == ["finished"]
    assert (await queries.get_todo(conn, todo.id)).finished is False


async def test_patch_with_an_empty_object_is_422_and_changes_nothing(api: Api, conn: Any) -> None:
    todo = await queries.create_todo(conn, "Strict")

    response = await api.patch(f"/api/todos/{todo.id}", json={})

    problem = await problem_of(response, 422)
    assert fields_of(problem) == ["body"]
    assert "at least one of the fields name and finished" in problem["errors"][0]["message"]
    assert await queries.get_todo(conn, todo.id) == todo


async def test_patch_with_an_unknown_field_is_422_naming_it(api: Api, conn: Any) -> None:
    todo = await queries.create_todo(conn, "Keep my name")

    response = await api.patch(
        f"/api/todos/{todo.id}", json={"finished": True, "name": "New", "colour": "red"}
    )

    assert fields_of(await problem_of(response, 422)) == ["colour"]
    assert await queries.get_todo(conn, todo.id) == todo


async def test_patch_one_field_keeps_the_other(api: Api, conn: Any) -> None:
    todo = await queries.create_todo(conn, "Old name", finished=True)

    renamed = await api.patch(f"/api/todos/{todo.id}", json={"name": "renamed"})
    after_rename = await queries.get_todo(conn, todo.id)
    reopened = await api.patch(f"/api/todos/{todo.id}", json={"finished": False})

    assert renamed.status == 204
    assert await renamed.read() == b""
    assert after_rename == Todo(todo.id, "renamed", True)
    assert reopened.status == 204
    assert await queries.get_todo(conn, todo.id) == Todo(todo.id, "renamed", False)


async def test_patch_both_fields_changes_both(api: Api, conn: Any) -> None:
    todo = await queries.create_todo(conn, "Before")

    response = await api.patch(f"/api/todos/{todo.id}", json={"name": "After", "finished": True})

    assert response.status == 204
    assert await queries.get_todo(conn, todo.id) == Todo(todo.id, "After", True)


async def test_patch_name_is_stored_stripped(api: Api, conn: Any) -> None:
    todo = await queries.create_todo(conn, "Before")

    await api.patch(f"/api/todos/{todo.id}", json={"name": "  Padded  "})

    assert (await queries.get_todo(conn, todo.id)).name == "Padded"


async def test_patch_a_todo_to_its_own_name_is_204(api: Api, conn: Any) -> None:
    todo = await queries.create_todo(conn, "Mine")

    response = await api.patch(f"/api/todos/{todo.id}", json={"name": "Mine", "finished": True})

    assert response.status == 204
    assert await queries.get_todo(conn, todo.id) == Todo(todo.id, "Mine", True)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("", id="empty"),
        pytest.param("   \t\n ", id="whitespace-only"),
        pytest.param(None, id="null"),
        pytest.param(42, id="number"),
        pytest.param(["list"], id="list"),
        pytest.param("x" * (queries.NAME_MAX_LENGTH + 1), id="too-long"),
    ],
)
async def test_patch_with_a_bad_name_is_422_naming_name_and_changes_nothing(
    api: Api, conn: Any, name: Any
) -> None:
    todo = await queries.create_todo(conn, "Untouched")

    response = await api.patch(f"/api/todos/{todo.id}", json={"name": name})

    assert fields_of(await problem_of(response, 422)) == ["name"]
    assert await queries.get_todo(conn, todo.id) == todo


async def test_patch_to_another_todos_name_is_409_naming_name(api: Api, conn: Any) -> None:
    await queries.create_todo(conn, "Taken")
    todo = await queries.create_todo(conn, "Mine")

    response = await api.patch(f"/api/todos/{todo.id}", json={"name": " Taken ", "finished": True})

    problem = await problem_of(response, 409)
    assert fields_of(problem) == ["name"]
    assert "Taken" in problem["detail"]
    assert await queries.get_todo(conn, todo.id) == todo


async def test_openapi_describes_patch_as_a_partial_update(anonymous: Api) -> None:
    document = await body_of(await anonymous.get("/api/openapi.json"))
    operation = document["paths"]["/api/todos/{todo_id}"]["patch"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][ref.rsplit("/", 1)[1]]

    assert set(schema["properties"]) == {"name", "finished"}
    assert schema["properties"]["name"]["type"] == "string"
    assert schema["properties"]["finished"]["type"] == "boolean"
    assert "default" not in schema["properties"]["name"]
    assert "required" not in schema
    assert schema["minProperties"] == 1
    assert schema["additionalProperties"] is False
    assert {"204", "409", "422"} <= set(operation["responses"])


async def test_the_tutorial_client_creates_follows_changes_lists_and_deletes(api: Api) -> None:
    created = await api.post("/api/todos/", json={"name": "Learn aiohttp"})
    assert created.status == 201
    location = created.headers["Location"]

    fetched = await api.get(location)
    assert fetched.status == 200
    todo = await body_of(fetched)
    assert (todo["name"], todo["finished"]) == ("Learn aiohttp", False)

    changed = await api.patch(location, json={"name": "Learn aiohttp well", "finished": True})
    assert changed.status == 204

    listed = await body_of(await api.get("/api/todos/"))
    assert listed["items"] == [
        {"id": todo["id"], "name": "Learn aiohttp well", "finished": True, "url": location}
    ]

    deleted = await api.delete(location)
    assert deleted.status == 204
    assert (await body_of(await api.get("/api/todos/")))["items"] == []
    await problem_of(await api.get(location), 404)


async def test_patch_without_a_token_is_401(anonymous: Api, conn: Any) -> None:
    todo = await queries.create_todo(conn, "Mine")

    response = await anonymous.patch(f"/api/todos/{todo.id}", json={"finished": True})

    await problem_of(response, 401)
    assert (await queries.get_todo(conn, todo.id)).finished is False


async def test_delete_answers_204_and_the_todo_is_gone(api: Api, conn: Any) -> None:
    todo = await queries.create_todo(conn, "Delete me")

    response = await api.delete(f"/api/todos/{todo.id}")

    assert response.status == 204
    assert await response.read() == b""
    await problem_of(await api.get(f"/api/todos/{todo.id}"), 404)
    assert await queries.count_todos(conn) == 0


async def test_delete_without_a_token_is_401(anonymous: Api, conn: Any) -> None:
    todo = await queries.create_todo(conn, "Keep me")

    response = await anonymous.delete(f"/api/todos/{todo.id}")

    await problem_of(response, 401)
    assert await queries.count_todos(conn) == 1


@pytest.mark.parametrize(
    ("method", "body"),
    [("GET", None), ("PATCH", {"finished": True}), ("DELETE", None)],
)
async def test_unknown_id_is_404(api: Api, method: str, body: Any) -> None:
    response = await api.request(method, "/api/todos/999999", json=body)

    problem = await problem_of(response, 404)
    assert "999999" in problem["detail"]


# The API index


async def test_index_points_at_every_resource(anonymous: Api) -> None:
    response = await anonymous.get("/api/")

    assert response.status == 200
    assert await body_of(response) == {
        "todos": "/api/todos/",
        "questions": "/api/questions/",
        "openapi": "/api/openapi.json",
        "docs": "/api/docs",
        "problems": "/api/problems/",
    }


# A moved prefix: every URL the API hands out follows the settings

MOVED = {"api": "/v2/", "todos": "/tasks/"}


@pytest.fixture
async def moved(make_client: MakeClient, settings: Settings, user_token: str) -> Api:
    """The site with the API at ``/v2/`` (and the todos pages at ``/tasks/``)."""
    return Api(await make_client(settings.with_overrides(apps=MOVED)), user_token)


async def test_moved_index_points_under_the_new_prefix(moved: Api) -> None:
    response = await moved.get("/v2/")

    assert await body_of(response) == {
        "todos": "/v2/todos/",
        "questions": "/v2/questions/",
        "openapi": "/v2/openapi.json",
        "docs": "/v2/docs",
        "problems": "/v2/problems/",
    }


async def test_moved_create_location_and_url_are_under_the_new_prefix(moved: Api) -> None:
    response = await moved.post("/v2/todos/", json={"name": "Moved"})

    created = await body_of(response)
    assert response.status == 201
    assert response.headers["Location"] == created["url"] == f"/v2/todos/{created['id']}"
    assert (await moved.get(created["url"])).status == 200


async def test_moved_list_urls_and_next_are_under_the_new_prefix(moved: Api, conn: Any) -> None:
    for name in ("a", "b", "c"):
        await queries.create_todo(conn, name)

    page = await body_of(await moved.get("/v2/todos/?limit=2"))

    assert all(item["url"].startswith("/v2/todos/") for item in page["items"])
    assert page["next"].startswith("/v2/todos/?")
    assert len((await body_of(await moved.get(page["next"])))["items"]) == 1


@pytest.mark.parametrize("path", ["/api/", "/api/todos/", "/api/openapi.json"])
async def test_moved_old_prefix_answers_nothing(moved: Api, path: str) -> None:
    response = await moved.get(path)

    # Nothing is mounted there any more: the root site's own (HTML) 404.
    assert response.status == 404
