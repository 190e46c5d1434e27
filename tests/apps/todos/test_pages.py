"""The todo list a page at a time: bounded however large the table, every todo reachable once."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from portal.apps.todos import queries
from portal.apps.todos.tables import todo
from portal.apps.todos.views import PAGE_SIZE
from portal.platform.auth.users import User
from portal.settings import Settings
from portal.testing import Client, MakeClient, csrf_token, log_in

LARGE = 20_000
_ITEM = re.compile(r'<li class="todo(?: finished)?" id="todo-(\d+)">')
_NEXT = re.compile(r'<a href="([^"]*)" rel="next">Next page</a>')
_FIRST = re.compile(r'<a href="([^"]*)" rel="first">First page</a>')
#: A page of 50 todos with their forms is ~30 KB; the whole 20,000 would be ~10 MB.
BOUND = 64 * 1024


async def _insert(conn: Any, count: int) -> None:
    """*count* todos ``todo 1`` ... in one statement; every third one finished."""
    n = sa.func.generate_series(1, count).table_valued("n").render_derived()
    await conn.execute(
        todo.insert().from_select(
            ["name", "finished"], sa.select(sa.func.concat("todo ", n.c.n), n.c.n % 3 == 0)
        )
    )


@pytest.fixture
async def large(conn: Any) -> int:
    """20,000 todos, ids 1 to 20,000 (the sequences restart with each test)."""
    await _insert(conn, LARGE)
    return LARGE


def _ids(body: str) -> list[int]:
    return [int(found) for found in _ITEM.findall(body)]


def _next(body: str) -> str | None:
    match = _NEXT.search(body)
    return None if match is None else match.group(1).replace("&amp;", "&")


@pytest.fixture
async def alice(client: Client, user: User) -> Client:
    """The site's client with ``alice`` logged in."""
    assert (await log_in(client, user.username)).status == 303
    return client


# Bounded


async def test_a_large_table_shows_one_page_of_bounded_size(client: Client, large: int) -> None:
    response = await client.get("/todos/")

    body = await response.text()
    assert response.status == 200
    assert _ids(body) == list(range(1, PAGE_SIZE + 1))
    assert len(body.encode()) < BOUND


async def test_a_large_table_logged_in_shows_one_page_of_bounded_size(
    alice: Client, large: int
) -> None:
    body = await (await alice.get("/todos/")).text()

    assert len(_ids(body)) == PAGE_SIZE
    assert len(body.encode()) < BOUND


async def test_a_large_table_summary_is_capped_not_counted(client: Client, large: int) -> None:
    body = await (await client.get("/todos/")).text()

    assert f"More than {queries.COUNT_CAP:,} todos." in body
    assert "finished." not in body


async def test_a_later_page_of_a_large_table_is_as_bounded(client: Client, large: int) -> None:
    response = await client.get(f"/todos/?after={large - 2 * PAGE_SIZE}")

    body = await response.text()
    assert _ids(body) == list(range(large - 2 * PAGE_SIZE + 1, large - PAGE_SIZE + 1))
    assert len(body.encode()) < BOUND


# Walking the pages


async def test_the_first_page_links_the_next_and_not_the_first(client: Client, large: int) -> None:
    body = await (await client.get("/todos/")).text()

    assert _next(body) == f"/todos/?after={PAGE_SIZE}"
    assert _FIRST.search(body) is None


async def test_page_two_through_the_next_link_shows_the_next_todos(
    client: Client, large: int
) -> None:
    first = await (await client.get("/todos/")).text()
    link = _next(first)
    assert link is not None

    second = await (await client.get(link)).text()

    assert _ids(second) == list(range(PAGE_SIZE + 1, 2 * PAGE_SIZE + 1))
    first_link = _FIRST.search(second)
    assert first_link is not None
    assert first_link.group(1) == "/todos/"


async def test_following_next_shows_every_todo_once_in_order(client: Client, conn: Any) -> None:
    total = 3 * PAGE_SIZE + 7
    await _insert(conn, total)
    seen: list[int] = []
    link: str | None = "/todos/"
    pages = 0

    while link is not None:
        body = await (await client.get(link)).text()
        seen += _ids(body)
        link = _next(body)
        pages += 1

    assert seen == list(range(1, total + 1))
    assert pages == 4


async def test_the_next_page_neither_repeats_nor_skips_after_changes_meanwhile(
    client: Client, conn: Any
) -> None:
    await _insert(conn, 2 * PAGE_SIZE)
    first = await (await client.get("/todos/")).text()
    # Meanwhile: a todo of the first page goes, a new one comes at the end.
    await queries.delete_todo(conn, 1)
    added = await queries.create_todo(conn, "Latecomer")

    second = await (await client.get(_next(first) or "")).text()
    third = await (await client.get(_next(second) or "")).text()

    assert _ids(second) == list(range(PAGE_SIZE + 1, 2 * PAGE_SIZE + 1))
    assert _ids(third) == [added.id]
    assert _next(third) is None


async def test_two_full_pages_are_two_pages_the_second_without_a_next_link(
    client: Client, conn: Any
) -> None:
    await _insert(conn, 2 * PAGE_SIZE)

    first = await (await client.get("/todos/")).text()
    second = await (await client.get(_next(first) or "")).text()

    assert _ids(first) == list(range(1, PAGE_SIZE + 1))
    assert _ids(second) == list(range(PAGE_SIZE + 1, 2 * PAGE_SIZE + 1))
    assert _next(second) is None


async def test_a_page_after_the_last_todo_says_so_and_links_the_first(
    client: Client, conn: Any
) -> None:
    await _insert(conn, 3)

    response = await client.get("/todos/?after=3")

    body = await response.text()
    assert response.status == 200
    assert _ids(body) == []
    assert "No more todos after this point." in body
    assert _FIRST.search(body) is not None


@pytest.mark.parametrize("after", ["", "0"])
async def test_an_empty_or_zero_after_is_the_first_page(
    client: Client, conn: Any, after: str
) -> None:
    await _insert(conn, 2 * PAGE_SIZE)

    body = await (await client.get(f"/todos/?after={after}")).text()

    assert _ids(body) == list(range(1, PAGE_SIZE + 1))
    assert _next(body) == f"/todos/?after={PAGE_SIZE}"
    assert _FIRST.search(body) is None


@pytest.mark.parametrize(
    "after",
    [
        pytest.param("abc", id="text"),
        pytest.param("-1", id="negative"),
        pytest.param("1.5", id="decimal"),
        pytest.param("2147483648", id="beyond-the-column"),
        pytest.param("9" * 5000, id="huge"),
        pytest.param("\u0663", id="arabic-digit"),
        pytest.param("%00", id="nul"),
    ],
)
async def test_a_bad_after_is_the_400_page(client: Client, conn: Any, after: str) -> None:
    await _insert(conn, 3)

    response = await client.get(f"/todos/?after={after}")

    body = await response.text()
    assert response.status == 400
    assert response.content_type == "text/html"
    assert "“after” must be the id of a todo" in body


# The forms on a later page


async def _post_from(client: Client, page: str, path: str, **form: str) -> Any:
    """POST *form* and the page's own hidden fields of the form aimed at *path*."""
    body = await (await client.get(page)).text()
    match = re.search(rf'<form [^>]*action="{re.escape(path)}">(.*?)</form>', body, re.S)
    assert match, f"no form for {path} on {page}"
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', match[1]))
    return await client.post(path, data={**fields, **form}, allow_redirects=False)


async def test_forms_on_page_two_carry_the_page(alice: Client, conn: Any) -> None:
    await _insert(conn, 2 * PAGE_SIZE)

    body = await (await alice.get(f"/todos/?after={PAGE_SIZE}")).text()

    hidden = f'<input type="hidden" name="after" value="{PAGE_SIZE}">'
    assert body.count(hidden) == 2 * PAGE_SIZE  # a toggle and a delete form per todo


@pytest.mark.parametrize("action", ["toggle", "delete"])
async def test_a_change_on_page_two_goes_back_to_page_two(
    alice: Client, conn: Any, action: str
) -> None:
    await _insert(conn, 2 * PAGE_SIZE)
    page = f"/todos/?after={PAGE_SIZE}"
    target = PAGE_SIZE + 5

    response = await _post_from(alice, page, f"/todos/{target}/{action}")

    assert response.status == 303
    assert response.headers["Location"] == page
    if action == "toggle":
        assert (await queries.get_todo(conn, target)).finished is (target % 3 != 0)
    else:
        assert target not in [t.id for t in await queries.list_todos(conn)]
    # A page that is not an id is only where to go back to: the first page then.
    token = await csrf_token(alice, page)
    again = await alice.post(
        f"/todos/{target + 1}/{action}",
        data={"csrf_token": token, "after": "x"},
        allow_redirects=False,
    )
    assert (again.status, again.headers["Location"]) == (303, "/todos/")


async def test_adding_to_a_large_list_goes_to_the_page_ending_with_the_new_todo(
    alice: Client, large: int
) -> None:
    token = await csrf_token(alice, "/todos/")

    response = await alice.post(
        "/todos/", data={"csrf_token": token, "name": "The newest"}, allow_redirects=False
    )

    location = response.headers["Location"]
    assert (response.status, location) == (303, f"/todos/?after={large - PAGE_SIZE + 1}")
    body = await (await alice.get(location)).text()
    assert _ids(body) == list(range(large - PAGE_SIZE + 2, large + 2))
    assert '<span class="name">The newest</span>' in body


# A moved prefix


async def test_moved_prefix_page_links_point_under_it(
    make_client: MakeClient, settings: Settings, conn: Any
) -> None:
    await _insert(conn, 2 * PAGE_SIZE)
    tasks = await make_client(settings.with_overrides(apps={"todos": "/tasks/"}))

    first = await (await tasks.get("/tasks/")).text()
    second = await (await tasks.get(f"/tasks/?after={PAGE_SIZE}")).text()

    assert _next(first) == f"/tasks/?after={PAGE_SIZE}"
    first_link = _FIRST.search(second)
    assert first_link is not None
    assert first_link.group(1) == "/tasks/"


# The live socket


async def test_the_live_snapshot_names_the_newest_todo_not_a_count(
    client: Client, large: int
) -> None:
    ws = await client.ws_connect("/todos/live")
    try:
        snapshot = await ws.receive_json(timeout=5)
    finally:
        await ws.close()

    assert snapshot == {"type": "snapshot", "latest": large}


async def test_the_live_snapshot_without_todos_has_no_newest(client: Client) -> None:
    ws = await client.ws_connect("/todos/live")
    try:
        snapshot = await ws.receive_json(timeout=5)
    finally:
        await ws.close()

    assert snapshot == {"type": "snapshot", "latest": None}
