"""Filters and orderings of the API's lists: what each one keeps, and how each mistake is told."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import sqlalchemy as sa

from portal.apps.polls.tables import question
from portal.apps.todos import queries as todos
from tests.apps.api.conftest import Api, body_of, fields_of, problem_of

NOON = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


async def _items(api: Api, path: str, **params: str) -> list[dict[str, Any]]:
    response = await api.get(f"{path}?{urlencode(params)}" if params else path)
    assert response.status == 200, await response.text()
    items: list[dict[str, Any]] = (await body_of(response))["items"]
    return items


async def _names(api: Api, **params: str) -> list[str]:
    return [item["name"] for item in await _items(api, "/api/todos/", **params)]


async def _texts(api: Api, **params: str) -> list[str]:
    return [item["question_text"] for item in await _items(api, "/api/questions/", **params)]


async def _todos(conn: Any, *names: str, finished: bool = False) -> None:
    for name in names:
        await todos.create_todo(conn, name, finished)


async def _question(conn: Any, text: str, pub_date: Any) -> None:
    await conn.execute(question.insert().values(question_text=text, pub_date=pub_date))


# Todos


@pytest.mark.parametrize(("finished", "expected"), [("true", ["Done"]), ("false", ["Open"])])
async def test_finished_keeps_only_todos_in_that_state(
    anonymous: Api, conn: Any, finished: str, expected: list[str]
) -> None:
    await _todos(conn, "Open")
    await _todos(conn, "Done", finished=True)

    assert await _names(anonymous, finished=finished) == expected


@pytest.mark.parametrize("term", ["MILK", "ilk", "Mi"])
async def test_name_contains_matches_any_part_of_the_name_ignoring_case(
    anonymous: Api, conn: Any, term: str
) -> None:
    await _todos(conn, "Buy milk", "Walk the dog")

    assert await _names(anonymous, name_contains=term) == ["Buy milk"]


@pytest.mark.parametrize(
    ("term", "expected"),
    [("100%", ["100% done"]), ("a_b", ["a_b"]), ("x\\y", ["x\\y"]), ("%", ["100% done"])],
)
async def test_name_contains_takes_like_wildcards_literally(
    anonymous: Api, conn: Any, term: str, expected: list[str]
) -> None:
    await _todos(conn, "100% done", "1000 done", "a_b", "axb", "x\\y", "xy")

    assert await _names(anonymous, name_contains=term) == expected


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("id", ["pear", "apple", "fig"]),
        ("-id", ["fig", "apple", "pear"]),
        ("name", ["apple", "fig", "pear"]),
        ("-name", ["pear", "fig", "apple"]),
    ],
)
async def test_todos_come_in_the_ordering_asked_for(
    anonymous: Api, conn: Any, ordering: str, expected: list[str]
) -> None:
    await _todos(conn, "pear", "apple", "fig")

    assert await _names(anonymous, ordering=ordering) == expected


async def test_filters_combine_with_pagination_to_the_end(anonymous: Api, conn: Any) -> None:
    await _todos(conn, *(f"task {n:02}" for n in range(12)))
    await _todos(conn, *(f"task {n:02} (done)" for n in range(12, 15)), finished=True)
    await _todos(conn, "unrelated")

    names: list[str] = []
    url: str | None = "/api/todos/?finished=false&name_contains=TASK&ordering=-name&limit=5"
    while url is not None:
        response = await anonymous.get(url)
        page = await body_of(response)
        names += [item["name"] for item in page["items"]]
        url = page["next"]

    assert names == [f"task {n:02}" for n in reversed(range(12))]


async def test_next_keeps_every_filter_the_ordering_and_the_limit(
    anonymous: Api, conn: Any
) -> None:
    await _todos(conn, "task a", "task b", "task c")

    response = await anonymous.get(
        "/api/todos/?finished=false&name_contains=task&ordering=name&limit=2"
    )
    page = await body_of(response)

    assert parse_qs(urlsplit(page["next"]).query) == {
        "finished": ["false"],
        "name_contains": ["task"],
        "ordering": ["name"],
        "limit": ["2"],
        "after": [page["cursor"]],
    }


# Questions


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"pub_date_after": "2024-05-01T12:00:00Z"}, ["at noon", "after noon"]),
        ({"pub_date_before": "2024-05-01T12:00:00Z"}, ["before noon"]),
        (
            {"pub_date_after": "2024-05-01T11:00:00Z", "pub_date_before": "2024-05-01T12:00:00Z"},
            ["before noon"],
        ),
        ({"pub_date_after": "2024-05-01T14:00:00+02:00"}, ["at noon", "after noon"]),
        ({"pub_date_before": "2024-05-01T12:00:00"}, ["before noon"]),
    ],
)
async def test_pub_date_after_is_inclusive_and_before_exclusive(
    anonymous: Api, conn: Any, params: dict[str, str], expected: list[str]
) -> None:
    await _question(conn, "before noon", NOON - dt.timedelta(minutes=1))
    await _question(conn, "at noon", NOON)
    await _question(conn, "after noon", NOON + dt.timedelta(minutes=1))

    assert await _texts(anonymous, **params) == expected


@pytest.mark.parametrize("term", ["FAVOURITE", "our", "?"])
async def test_question_text_contains_ignores_case(anonymous: Api, conn: Any, term: str) -> None:
    await _question(conn, "Your favourite colour?", NOON)
    await _question(conn, "Tea or coffee", NOON)

    assert await _texts(anonymous, question_text_contains=term) == ["Your favourite colour?"]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    # "old" and "older twin" share a date: the id breaks the tie, in the same direction.
    [("pub_date", ["old", "older twin", "new"]), ("-pub_date", ["new", "older twin", "old"])],
)
async def test_questions_come_in_pub_date_order_ties_by_id(
    anonymous: Api, conn: Any, ordering: str, expected: list[str]
) -> None:
    await _question(conn, "new", NOON)
    await _question(conn, "old", NOON - dt.timedelta(days=1))
    await _question(conn, "older twin", NOON - dt.timedelta(days=1))

    assert await _texts(anonymous, ordering=ordering) == expected


async def _published_and_not(conn: Any) -> None:
    await _question(conn, "published", sa.func.now() - dt.timedelta(days=1))
    await _question(conn, "to come", sa.func.now() + dt.timedelta(days=1))


@pytest.mark.parametrize(
    ("published", "expected"),
    [(None, ["published", "to come"]), ("true", ["published"]), ("false", ["to come"])],
)
async def test_staff_may_list_published_or_unpublished_questions(
    staff_api: Api, conn: Any, published: str | None, expected: list[str]
) -> None:
    await _published_and_not(conn)

    params = {} if published is None else {"published": published}

    assert await _texts(staff_api, **params) == expected


@pytest.mark.parametrize("token", [False, True])
async def test_published_false_is_403_naming_it_for_anyone_but_staff(
    anonymous: Api, api: Api, conn: Any, token: bool
) -> None:
    await _published_and_not(conn)

    response = await (api if token else anonymous).get("/api/questions/?published=false")

    assert fields_of(await problem_of(response, 403)) == ["published"]


async def test_published_true_is_what_the_public_sees_anyway(anonymous: Api, conn: Any) -> None:
    await _published_and_not(conn)

    assert await _texts(anonymous, published="true") == ["published"]


# Mistakes


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("/api/todos/?finished=maybe", "finished"),
        ("/api/todos/?finished=1", "finished"),
        ("/api/todos/?finished=", "finished"),
        ("/api/todos/?ordering=finished", "ordering"),
        ("/api/todos/?ordering=name%20", "ordering"),
        ("/api/todos/?name_contains=", "name_contains"),
        ("/api/todos/?name_contains=a%00b", "name_contains"),
        ("/api/todos/?name=milk", "name"),
        ("/api/questions/?ordering=question_text", "ordering"),
        ("/api/questions/?pub_date_after=yesterday", "pub_date_after"),
        ("/api/questions/?pub_date_before=2024-05-01", "pub_date_before"),
        ("/api/questions/?pub_date_after=0", "pub_date_after"),
        ("/api/questions/?published=no", "published"),
        ("/api/questions/?question_text_contains=", "question_text_contains"),
        ("/api/questions/?pub_date=2024-05-01T12:00:00Z", "pub_date"),
    ],
)
async def test_a_bad_parameter_is_422_naming_it(anonymous: Api, query: str, field: str) -> None:
    response = await anonymous.get(query)

    assert fields_of(await problem_of(response, 422)) == [field]
