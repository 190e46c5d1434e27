"""A list of 100,000 rows: the page and the search answer, from limited, indexed queries."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from aiopg.sa.engine import get_dialect

from portal.apps.todos.admin import todo_admin
from portal.apps.todos.tables import todo
from portal.platform.admin.listing import parse_list_query
from portal.platform.admin.queries import list_statement
from portal.testing import Client

ROWS = 100_000


@pytest.fixture
async def many_todos(conn: Any) -> int:
    """100,000 todos, ``todo 1`` to ``todo 100000``, every third finished, in one statement.

    Tests ask for it before the client, so the rows are there before the site starts.
    """
    n = sa.func.generate_series(1, ROWS).table_valued("n").render_derived()
    await conn.execute(
        todo.insert().from_select(
            ["name", "finished"],
            sa.select(sa.func.concat("todo ", n.c.n), n.c.n % 3 == 0),
        )
    )
    await conn.execute("ANALYZE todo")
    return ROWS


async def plan(conn: Any, query: dict[str, str]) -> str:
    """PostgreSQL's plan for the list page *query* asks for."""
    statement = list_statement(
        todo,
        ["id", "name", "finished"],
        todo_admin.search,
        parse_list_query(todo_admin, query),
    )
    # aiopg's own dialect: it renders the LIKE escape character as the server reads it.
    compiled = statement.compile(dialect=get_dialect())  # type: ignore[no-untyped-call]
    rows = await conn.execute("EXPLAIN " + str(compiled), compiled.params)
    return "\n".join([row[0] async for row in rows])


async def test_the_first_page_of_100000_rows(many_todos: int, staff: Client) -> None:
    response = await staff.get("/admin/todos/todo/")

    body = await response.text()
    assert response.status == 200
    assert "100,000 todos." in body
    assert "Page 1 of 2000" in body
    assert len(re.findall(r'<tr id="row-\d+">', body)) == 50
    assert ">todo 1</a>" in body


async def test_the_last_page_of_100000_rows(many_todos: int, staff: Client) -> None:
    body = await (await staff.get("/admin/todos/todo/?p=2000")).text()

    assert ">todo 100000</a>" in body
    assert len(re.findall(r'<tr id="row-\d+">', body)) == 50


async def test_a_search_among_100000_rows(many_todos: int, staff: Client) -> None:
    body = await (await staff.get("/admin/todos/todo/?q=todo+99999")).text()

    assert re.findall(r'<tr id="row-(\d+)">', body) == ["99999"]
    assert "1 todo found, of 100,000 in all." in body


async def test_a_filtered_sorted_page_among_100000_rows(many_todos: int, staff: Client) -> None:
    body = await (await staff.get("/admin/todos/todo/?f_finished=1&o=-name")).text()

    assert "33,333 todos found" in body
    assert body.index(">todo 99999</a>") < body.index(">todo 99996</a>")


async def test_the_default_page_walks_the_primary_key_index_and_stops(
    conn: Any, many_todos: int
) -> None:
    found = await plan(conn, {})

    assert found.startswith("Limit")
    assert "Index Scan using todo_pkey" in found
    assert "Sort" not in found


async def test_sorting_by_an_indexed_column_walks_its_index(conn: Any, many_todos: int) -> None:
    found = await plan(conn, {"o": "-name"})

    assert found.startswith("Limit")
    assert "Index Scan Backward using todo_name_key" in found
    assert "Sort" not in found


async def test_a_search_page_is_limited_to_one_page_of_rows(conn: Any, many_todos: int) -> None:
    found = await plan(conn, {"q": "todo 4%2"})

    assert found.startswith("Limit")
    assert "ILIKE" in found.upper() or "~~*" in found
