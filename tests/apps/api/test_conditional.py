"""Conditional requests: ETag and If-None-Match on reads, If-Match on writes (RFC 9110 §13)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from portal.apps.polls import queries as polls
from portal.apps.todos import queries as todos
from tests.apps.api.conftest import Api, body_of, problem_of


@pytest.fixture
async def todo(conn: Any) -> todos.Todo:
    return await todos.create_todo(conn, "Write the tests", False)


async def _tag(api: Api, path: str) -> str:
    response = await api.get(path)
    assert response.status == 200
    return response.headers["ETag"]


async def test_a_read_of_one_resource_carries_a_strong_etag(api: Api, todo: todos.Todo) -> None:
    response = await api.get(f"/api/todos/{todo.id}")

    tag = response.headers["ETag"]
    assert tag.startswith('"')
    assert tag.endswith('"')


async def test_the_current_tag_in_if_none_match_is_304_without_a_body(
    api: Api, todo: todos.Todo
) -> None:
    tag = await _tag(api, f"/api/todos/{todo.id}")

    response = await api.get(f"/api/todos/{todo.id}", headers={"If-None-Match": tag})

    assert response.status == 304
    assert response.headers["ETag"] == tag
    assert await response.read() == b""


async def test_a_weak_form_of_the_tag_also_matches_if_none_match(
    api: Api, todo: todos.Todo
) -> None:
    tag = await _tag(api, f"/api/todos/{todo.id}")

    response = await api.get(
        f"/api/todos/{todo.id}", headers={"If-None-Match": f'"other", W/{tag}'}
    )

    assert response.status == 304


async def test_an_old_tag_in_if_none_match_gets_the_new_representation(
    api: Api, todo: todos.Todo, conn: Any
) -> None:
    tag = await _tag(api, f"/api/todos/{todo.id}")
    await todos.update_todo(conn, todo.id, finished=True)

    response = await api.get(f"/api/todos/{todo.id}", headers={"If-None-Match": tag})

    assert response.status == 200
    assert response.headers["ETag"] != tag
    assert (await body_of(response))["finished"] is True


async def test_a_list_page_carries_an_etag_that_changes_with_its_rows(
    api: Api, todo: todos.Todo, conn: Any
) -> None:
    tag = await _tag(api, "/api/todos/")
    unchanged = await api.get("/api/todos/", headers={"If-None-Match": tag})
    await todos.create_todo(conn, "Another", False)

    changed = await api.get("/api/todos/", headers={"If-None-Match": tag})

    assert unchanged.status == 304
    assert changed.status == 200


async def test_a_vote_changes_the_question_s_tag(api: Api, conn: Any) -> None:
    question = await polls.create_question(conn, "Tea?", ["Yes", "No"])
    choice = (await polls.first_choices(conn, question.id))[0][0]
    tag = await _tag(api, f"/api/questions/{question.id}")

    await polls.vote(conn, question.id, choice.id)

    assert await _tag(api, f"/api/questions/{question.id}") != tag


async def test_patch_with_the_current_tag_changes_and_answers_the_new_tag(
    api: Api, todo: todos.Todo, conn: Any
) -> None:
    tag = await _tag(api, f"/api/todos/{todo.id}")

    response = await api.patch(
        f"/api/todos/{todo.id}", json={"finished": True}, headers={"If-Match": tag}
    )

    assert response.status == 204
    assert (await todos.get_todo(conn, todo.id)).finished is True
    assert response.headers["ETag"] == await _tag(api, f"/api/todos/{todo.id}")


async def test_patch_with_a_stale_tag_is_412_and_changes_nothing(
    api: Api, todo: todos.Todo, conn: Any
) -> None:
    tag = await _tag(api, f"/api/todos/{todo.id}")
    await todos.update_todo(conn, todo.id, name="Renamed elsewhere")

    response = await api.patch(
        f"/api/todos/{todo.id}", json={"finished": True}, headers={"If-Match": tag}
    )

    await problem_of(response, 412)
    assert await todos.get_todo(conn, todo.id) == todos.Todo(todo.id, "Renamed elsewhere", False)


@pytest.mark.parametrize("sent", ["W/{tag}", '"nonsense"', "not a tag list", ""])
async def test_patch_with_a_weak_unknown_or_malformed_tag_is_412(
    api: Api, todo: todos.Todo, conn: Any, sent: str
) -> None:
    tag = await _tag(api, f"/api/todos/{todo.id}")

    response = await api.patch(
        f"/api/todos/{todo.id}",
        json={"finished": True},
        headers={"If-Match": sent.format(tag=tag)},
    )

    await problem_of(response, 412)
    assert (await todos.get_todo(conn, todo.id)).finished is False


async def test_if_match_star_writes_to_an_existing_resource(
    api: Api, todo: todos.Todo, conn: Any
) -> None:
    response = await api.patch(
        f"/api/todos/{todo.id}", json={"finished": True}, headers={"If-Match": "*"}
    )

    assert response.status == 204
    assert (await todos.get_todo(conn, todo.id)).finished is True


async def test_if_match_on_a_missing_resource_is_404_as_without_it(api: Api) -> None:
    # RFC 9110 section 13.2.1: a condition is ignored where the answer would not be 2xx.
    response = await api.patch(
        "/api/todos/999999", json={"finished": True}, headers={"If-Match": "*"}
    )

    await problem_of(response, 404)


async def test_delete_with_a_stale_tag_is_412_and_keeps_the_row(
    api: Api, todo: todos.Todo, conn: Any
) -> None:
    tag = await _tag(api, f"/api/todos/{todo.id}")
    await todos.update_todo(conn, todo.id, finished=True)

    response = await api.delete(f"/api/todos/{todo.id}", headers={"If-Match": tag})

    await problem_of(response, 412)
    assert (await todos.get_todo(conn, todo.id)).finished is True


async def test_delete_with_the_current_tag_deletes(api: Api, todo: todos.Todo) -> None:
    tag = await _tag(api, f"/api/todos/{todo.id}")

    response = await api.delete(f"/api/todos/{todo.id}", headers={"If-Match": tag})

    assert response.status == 204
    await problem_of(await api.get(f"/api/todos/{todo.id}"), 404)


async def test_two_clients_holding_one_tag_cannot_both_write(
    api: Api, todo: todos.Todo, conn: Any
) -> None:
    tag = await _tag(api, f"/api/todos/{todo.id}")
    names = [f"Client {n}" for n in range(8)]

    responses = await asyncio.gather(
        *(
            api.patch(f"/api/todos/{todo.id}", json={"name": name}, headers={"If-Match": tag})
            for name in names
        )
    )

    statuses = sorted(response.status for response in responses)
    assert statuses == [204] + [412] * (len(names) - 1)
    winner = names[[response.status for response in responses].index(204)]
    assert (await todos.get_todo(conn, todo.id)).name == winner


async def test_a_write_without_if_match_is_unconditional(
    api: Api, todo: todos.Todo, conn: Any
) -> None:
    await todos.update_todo(conn, todo.id, name="Renamed elsewhere")

    response = await api.patch(f"/api/todos/{todo.id}", json={"finished": True})

    assert response.status == 204
    assert (await todos.get_todo(conn, todo.id)).finished is True


async def test_prefer_return_representation_answers_the_changed_todo(
    api: Api, todo: todos.Todo
) -> None:
    response = await api.patch(
        f"/api/todos/{todo.id}",
        json={"finished": True},
        headers={"Prefer": "respond-async, return=representation"},
    )

    assert response.status == 200
    assert response.headers["Preference-Applied"] == "return=representation"
    assert await body_of(response) == {
        "id": todo.id,
        "name": "Write the tests",
        "finished": True,
        "url": f"/api/todos/{todo.id}",
    }
    assert response.headers["ETag"] == await _tag(api, f"/api/todos/{todo.id}")


async def test_prefer_return_minimal_keeps_the_204(api: Api, todo: todos.Todo) -> None:
    response = await api.patch(
        f"/api/todos/{todo.id}", json={"finished": True}, headers={"Prefer": "return=minimal"}
    )

    assert response.status == 204
    assert "Preference-Applied" not in response.headers


async def test_a_conditional_patch_that_conflicts_changes_nothing(
    api: Api, todo: todos.Todo, conn: Any
) -> None:
    await todos.create_todo(conn, "Taken", False)
    tag = await _tag(api, f"/api/todos/{todo.id}")

    response = await api.patch(
        f"/api/todos/{todo.id}",
        json={"name": "Taken", "finished": True},
        headers={"If-Match": tag},
    )

    await problem_of(response, 409)
    assert await todos.get_todo(conn, todo.id) == todo
