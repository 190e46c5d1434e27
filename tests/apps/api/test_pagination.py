"""Keyset pagination: limits, ``next`` links and cursors, and stability under concurrent
inserts in every ordering."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from portal.apps.polls import queries as polls
from portal.apps.polls.tables import question
from portal.apps.todos import queries as todos
from portal.platform.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, encode_cursor
from tests.apps.api.conftest import Api, body_of, fields_of, problem_of

Insert = Callable[[Any, int], Awaitable[int]]


async def _todo(conn: Any, n: int) -> int:
    return (await todos.create_todo(conn, f"todo {n}")).id


async def _question(conn: Any, n: int) -> int:
    return (await polls.create_question(conn, f"question {n}?", [])).id


async def _insert(conn: Any, insert: Insert, count: int, start: int = 0) -> list[int]:
    return [await insert(conn, n) for n in range(start, start + count)]


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


async def _page(api: Api, url: str) -> dict[str, Any]:
    response = await api.get(url)
    assert response.status == 200, await response.text()
    page: dict[str, Any] = await body_of(response)
    return page


# Limits


async def test_default_limit_is_20(anonymous: Api, conn: Any) -> None:
    ids = await _insert(conn, _todo, DEFAULT_LIMIT + 5)

    page = await _page(anonymous, "/api/todos/")

    assert [item["id"] for item in page["items"]] == ids[:DEFAULT_LIMIT]
    assert _query(page["next"]) == {"limit": ["20"], "after": [page["cursor"]]}


async def test_limit_up_to_100_is_honoured(anonymous: Api, conn: Any) -> None:
    await _insert(conn, _todo, MAX_LIMIT + 1)

    page = await _page(anonymous, f"/api/todos/?limit={MAX_LIMIT}")

    assert len(page["items"]) == MAX_LIMIT
    assert page["next"] is not None


@pytest.mark.parametrize("limit", [str(MAX_LIMIT + 1), "0", "-1", "ten", "1.5", ""])
async def test_limit_outside_1_to_100_is_422_naming_limit(anonymous: Api, limit: str) -> None:
    response = await anonymous.get(f"/api/todos/?limit={limit}")

    assert fields_of(await problem_of(response, 422)) == ["limit"]


@pytest.mark.parametrize("path", ["/api/questions/?limit=101", "/api/questions/1/choices/?limit=0"])
async def test_every_list_checks_its_limit(anonymous: Api, conn: Any, path: str) -> None:
    await _question(conn, 1)

    assert fields_of(await problem_of(await anonymous.get(path), 422)) == ["limit"]


@pytest.mark.parametrize("path", ["/api/todos/", "/api/questions/", "/api/questions/1/choices/"])
async def test_an_unknown_query_parameter_is_422_naming_it(
    anonymous: Api, conn: Any, path: str
) -> None:
    await _question(conn, 1)

    response = await anonymous.get(f"{path}?utm_source=mail")

    assert fields_of(await problem_of(response, 422)) == ["utm_source"]


# The last page


async def test_next_is_null_on_the_last_page(anonymous: Api, conn: Any) -> None:
    ids = await _insert(conn, _todo, 5)

    page = await _page(anonymous, f"/api/todos/?limit=3&after={ids[2]}")

    assert [item["id"] for item in page["items"]] == ids[3:]
    assert page["next"] is None


async def test_next_is_null_when_the_last_page_is_exactly_full(anonymous: Api, conn: Any) -> None:
    await _insert(conn, _todo, 4)

    first = await _page(anonymous, "/api/todos/?limit=2")
    last = await _page(anonymous, first["next"])

    assert len(last["items"]) == 2
    assert last["next"] is None


async def test_empty_list_is_one_empty_page(anonymous: Api) -> None:
    assert await _page(anonymous, "/api/todos/") == {"items": [], "next": None, "cursor": None}


async def test_after_the_last_id_is_an_empty_page(anonymous: Api, conn: Any) -> None:
    ids = await _insert(conn, _todo, 3)

    page = await _page(anonymous, f"/api/todos/?after={ids[-1]}")

    assert page == {"items": [], "next": None, "cursor": None}


# Following next


@pytest.mark.parametrize(
    ("start", "insert"), [("/api/todos/", _todo), ("/api/questions/", _question)]
)
async def test_following_next_visits_every_row_once_in_id_order(
    anonymous: Api, conn: Any, start: str, insert: Insert
) -> None:
    ids = await _insert(conn, insert, 45)

    seen: list[int] = []
    url: str | None = f"{start}?limit=7"
    while url is not None:
        page = await _page(anonymous, url)
        seen += [item["id"] for item in page["items"]]
        url = page["next"]

    assert seen == ids


@pytest.mark.parametrize(
    ("start", "insert"), [("/api/todos/", _todo), ("/api/questions/", _question)]
)
async def test_rows_inserted_between_pages_skip_and_repeat_nothing(
    anonymous: Api, conn: Any, start: str, insert: Insert
) -> None:
    existing = await _insert(conn, insert, 30)
    added: list[int] = []

    seen: list[int] = []
    url: str | None = f"{start}?limit=4"
    while url is not None:
        page = await _page(anonymous, url)
        seen += [item["id"] for item in page["items"]]
        url = page["next"]
        # Someone else writes while we read.
        added += await _insert(conn, insert, 3, start=1000 + len(added))

    assert len(seen) == len(set(seen)), "a row was repeated"
    assert set(existing) <= set(seen), "a row that existed at the start was skipped"
    assert seen == sorted(seen)
    assert set(seen) <= set(existing) | set(added)


async def test_rows_deleted_between_pages_shift_nothing(anonymous: Api, conn: Any) -> None:
    ids = await _insert(conn, _todo, 10)

    first = await _page(anonymous, "/api/todos/?limit=4")
    for todo_id in ids[:4]:
        await todos.delete_todo(conn, todo_id)
    second = await _page(anonymous, first["next"])

    assert [item["id"] for item in second["items"]] == ids[4:8]


async def test_choices_follow_next_too(anonymous: Api, conn: Any) -> None:
    question = await polls.create_question(conn, "Many?", [f"choice {n}" for n in range(5)])
    expected = [c.id for c in await polls.get_choices(conn, question.id)]

    seen: list[int] = []
    url: str | None = f"/api/questions/{question.id}/choices/?limit=2"
    while url is not None:
        page = await _page(anonymous, url)
        seen += [item["id"] for item in page["items"]]
        url = page["next"]

    assert seen == expected


# Cursors


async def test_the_cursor_as_after_gives_the_page_next_links(anonymous: Api, conn: Any) -> None:
    await _insert(conn, _todo, 6)
    first = await _page(anonymous, "/api/todos/?limit=2")

    by_cursor = await _page(anonymous, f"/api/todos/?limit=2&after={first['cursor']}")

    assert by_cursor == await _page(anonymous, first["next"])


async def test_an_id_in_digits_is_still_an_after_for_the_id_ordering(
    anonymous: Api, conn: Any
) -> None:
    ids = await _insert(conn, _todo, 4)

    page = await _page(anonymous, f"/api/todos/?after={ids[1]}")

    assert [item["id"] for item in page["items"]] == ids[2:]


@pytest.mark.parametrize("after", ["bm90IGpzb24", "WyJpZCIsMSwxXQ==", "!!", "W10", "9" * 12])
async def test_a_cursor_that_is_not_one_is_422_naming_after(anonymous: Api, after: str) -> None:
    response = await anonymous.get(f"/api/todos/?after={after}")

    assert fields_of(await problem_of(response, 422)) == ["after"]


@pytest.mark.parametrize(
    ("path", "cursor"),
    [
        ("/api/todos/?ordering=name", encode_cursor("id", 1, 1)),
        ("/api/todos/?ordering=-name", encode_cursor("name", "a", 1)),
        ("/api/todos/?ordering=name", "5"),
        (
            "/api/questions/?ordering=-pub_date",
            encode_cursor("pub_date", "2024-01-01T00:00:00Z", 1),
        ),
        ("/api/questions/?ordering=pub_date", encode_cursor("pub_date", "yesterday", 1)),
        ("/api/questions/1/choices/", encode_cursor("-id", 1, 1)),
    ],
)
async def test_a_cursor_made_for_another_ordering_is_422_naming_after(
    anonymous: Api, conn: Any, path: str, cursor: str
) -> None:
    await _question(conn, 1)

    response = await anonymous.get(
        f"{path}&after={cursor}" if "?" in path else f"{path}?after={cursor}"
    )

    assert fields_of(await problem_of(response, 422)) == ["after"]


# Every ordering, under concurrent inserts


async def _named(conn: Any, n: int) -> int:
    # Names spread over the alphabet, so new ones land before and after the reader.
    return (await todos.create_todo(conn, f"{'mdzaxkqbhf'[n % 10]} todo {n}")).id


async def _dated(conn: Any, n: int) -> int:
    # Dates spread over the past year, some equal, so ties are broken by id.
    pub_date = sa.func.now() - dt.timedelta(days=(n * 37) % 365 + 1)
    row = await conn.scalar(
        question.insert()
        .values(question_text=f"question {n}?", pub_date=pub_date)
        .returning(question.c.id)
    )
    return int(row)


_ORDERINGS = [
    ("/api/todos/", _named, "id"),
    ("/api/todos/", _named, "-id"),
    ("/api/todos/", _named, "name"),
    ("/api/todos/", _named, "-name"),
    ("/api/questions/", _dated, "id"),
    ("/api/questions/", _dated, "-id"),
    ("/api/questions/", _dated, "pub_date"),
    ("/api/questions/", _dated, "-pub_date"),
]


def _key(item: dict[str, Any], ordering: str) -> tuple[Any, int]:
    field = ordering.removeprefix("-")
    value = dt.datetime.fromisoformat(item[field]) if field == "pub_date" else item[field]
    return (value, item["id"])


@pytest.mark.parametrize(("start", "insert", "ordering"), _ORDERINGS)
async def test_every_ordering_skips_and_repeats_nothing_under_inserts(
    anonymous: Api, conn: Any, start: str, insert: Insert, ordering: str
) -> None:
    existing = await _insert(conn, insert, 20)
    added = 0

    items: list[dict[str, Any]] = []
    url: str | None = f"{start}?limit=3&ordering={ordering}"
    while url is not None:
        page = await _page(anonymous, url)
        items += page["items"]
        url = page["next"]
        # Someone else writes while we read.
        await _insert(conn, insert, 2, start=1000 + added)
        added += 2

    seen = [item["id"] for item in items]
    assert len(seen) == len(set(seen)), "a row was repeated"
    assert set(existing) <= set(seen), "a row that existed at the start was skipped"
    keys = [_key(item, ordering) for item in items]
    assert keys == sorted(keys, reverse=ordering.startswith("-"))
