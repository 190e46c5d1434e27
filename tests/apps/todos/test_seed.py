"""The tutorial's sample todos: loaded once however often the seed runs."""

from __future__ import annotations

from typing import Any

from markupsafe import escape

from portal.apps.todos import queries
from portal.apps.todos.seed import SAMPLE_TODOS, seed
from portal.testing import Client


async def _stored(conn: Any) -> list[tuple[str, bool]]:
    return [(t.name, t.finished) for t in await queries.list_todos(conn)]


async def test_seed_adds_the_tutorials_two_todos(conn: Any) -> None:
    await seed(conn)

    assert await _stored(conn) == [
        ("Start this tutorial", True),
        ("Finish this tutorial", False),
    ]


async def test_seed_twice_leaves_each_sample_todo_once(conn: Any) -> None:
    await seed(conn)
    await seed(conn)

    assert await _stored(conn) == list(SAMPLE_TODOS)


async def test_seed_in_a_transaction_works_when_the_samples_exist(conn: Any) -> None:
    # The CLI seeds each app inside one transaction.
    await seed(conn)

    async with conn.begin():
        await seed(conn)

    assert await _stored(conn) == list(SAMPLE_TODOS)


async def test_seed_keeps_existing_todos_and_their_state(conn: Any) -> None:
    own = await queries.create_todo(conn, "Our own todo")
    start = await queries.create_todo(conn, "Start this tutorial", finished=False)

    await seed(conn)

    assert await _stored(conn) == [
        (own.name, False),
        (start.name, False),  # left as it was, not reset to the sample's state
        ("Finish this tutorial", False),
    ]


async def test_seeded_todos_are_listed_on_the_todos_page(client: Client, conn: Any) -> None:
    await seed(conn)

    body = await (await client.get("/todos/")).text()

    for name, _ in SAMPLE_TODOS:
        assert f'<span class="name">{escape(name)}</span>' in body
