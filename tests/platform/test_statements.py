"""The compiled-statement cache: each statement shape compiled once, results unchanged."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa

from portal.apps.todos.tables import todo
from portal.platform.db import statements
from portal.platform.db.statements import StatementCache

_BY_ID = sa.select(todo.c.id, todo.c.name).where(todo.c.id == sa.bindparam("todo_id"))


@pytest.fixture
async def engine(clean_db: str) -> AsyncIterator[Any]:
    engine: Any = await statements.create_engine(clean_db, minsize=1, maxsize=2)
    async with engine.acquire() as conn:
        await conn.execute(todo.insert().values([{"name": f"todo {i}"} for i in range(1, 6)]))
    try:
        yield engine
    finally:
        engine.close()
        await engine.wait_closed()


async def _ids(engine: Any) -> dict[str, int]:
    async with engine.acquire() as conn:
        return {row.name: row.id async for row in await conn.execute(sa.select(todo))}


async def test_a_statement_run_twice_is_compiled_once(engine: Any) -> None:
    ids = await _ids(engine)
    before = engine.statements.misses

    async with engine.acquire() as conn:
        first = await (await conn.execute(_BY_ID, todo_id=ids["todo 1"])).first()
        second = await (await conn.execute(_BY_ID, todo_id=ids["todo 2"])).first()

    assert (first.name, second.name) == ("todo 1", "todo 2")
    assert engine.statements.misses == before + 1


async def test_statements_built_per_call_share_one_compiled_form_with_their_own_values(
    engine: Any,
) -> None:
    ids = await _ids(engine)
    names = []
    async with engine.acquire() as conn:
        before = engine.statements.misses
        for name in ("todo 3", "todo 4", "todo 5"):
            query = sa.select(todo.c.name).where(todo.c.id == ids[name])
            names.append(await conn.scalar(query))

    assert names == ["todo 3", "todo 4", "todo 5"]
    assert engine.statements.misses == before + 1


async def test_in_over_lists_of_different_lengths_reads_the_right_rows(engine: Any) -> None:
    ids = await _ids(engine)
    async with engine.acquire() as conn:
        two = [r.name async for r in await conn.execute(_names_in([ids["todo 1"], ids["todo 2"]]))]
        three = [r.name async for r in await conn.execute(_names_in(list(ids.values())[2:]))]

    assert two == ["todo 1", "todo 2"]
    assert three == ["todo 3", "todo 4", "todo 5"]


def _names_in(ids: list[int]) -> sa.sql.Select:
    return sa.select(todo.c.name).where(todo.c.id.in_(ids)).order_by(todo.c.id)


async def test_writes_with_returning_go_through_the_cache(engine: Any) -> None:
    ids = await _ids(engine)
    finish = (
        todo.update()
        .where(todo.c.id == sa.bindparam("todo_id"))
        .values(finished=sa.bindparam("finished"))
        .returning(todo.c.finished)
    )
    async with engine.acquire() as conn:
        done = await conn.scalar(finish, todo_id=ids["todo 1"], finished=True)
        again = await conn.scalar(finish, todo_id=ids["todo 1"], finished=False)

    assert (done, again) == (True, False)


async def test_plain_sql_strings_still_run(engine: Any) -> None:
    async with engine.acquire() as conn:
        assert await conn.scalar("SELECT count(*) FROM todo") == 5


async def test_closing_a_connection_returns_it_to_the_pool(engine: Any) -> None:
    async with engine.acquire() as conn:
        await conn.scalar(sa.select(sa.literal(1)))
        assert engine.freesize == engine.size - 1

    assert engine.freesize == engine.size


async def test_closing_inside_a_transaction_rolls_it_back(engine: Any) -> None:
    async with engine.acquire() as conn:
        await conn.begin()
        await conn.execute(todo.delete())

    async with engine.acquire() as conn:
        assert await conn.scalar(sa.select(sa.func.count()).select_from(todo)) == 5


async def test_the_cache_keeps_at_most_its_size(engine: Any) -> None:
    cache = StatementCache(size=2)
    dialect = engine.dialect
    for column in (todo.c.id, todo.c.name, todo.c.finished):
        cache.lookup(sa.select(column), dialect)

    assert len(cache) == 2


async def test_waiting_requests_get_connections_in_arrival_order(clean_db: str) -> None:
    engine: Any = await statements.create_engine(clean_db, minsize=1, maxsize=1)
    order: list[int] = []

    async def use(n: int) -> None:
        async with engine.acquire():
            order.append(n)

    try:
        held = await engine.acquire()
        waiting = [asyncio.create_task(use(n)) for n in (1, 2)]
        await asyncio.sleep(0.05)
        await held.close()
        # Arrives after the release, before the waiters have run: must queue.
        late = asyncio.create_task(use(3))
        await asyncio.gather(*waiting, late)
    finally:
        engine.close()
        await engine.wait_closed()

    assert order == [1, 2, 3]
