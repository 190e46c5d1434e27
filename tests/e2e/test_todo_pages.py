"""The todo list's later pages in a real browser: the next link, and live sync keeping the page."""

from __future__ import annotations

import psycopg2
import pytest
from playwright.sync_api import Page, expect

from portal.apps.todos.views import PAGE_SIZE
from tests.servers import Server

pytestmark = pytest.mark.browser

TODOS = 2 * PAGE_SIZE + 20


def _sql(database_url: str, statement: str, *params: object) -> None:
    """Run one statement on the server's database, committed (the trigger notifies the site)."""
    conn = psycopg2.connect(database_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(statement, params)
    finally:
        conn.close()


@pytest.fixture
def many_todos(live_server: Server, e2e_database: str) -> str:
    """More than two pages of todos, ``todo 1`` to ``todo 120`` (ids 1 to 120)."""
    _sql(
        e2e_database,
        "INSERT INTO todo (name) SELECT 'todo ' || n FROM generate_series(1, %s) AS n",
        TODOS,
    )
    return e2e_database


def test_the_next_link_leads_to_the_second_page(
    page: Page, live_server: Server, many_todos: str
) -> None:
    page.goto(f"{live_server.url}/todos/")
    expect(page.locator("li.todo")).to_have_count(PAGE_SIZE)

    page.get_by_role("link", name="Next page").click()

    expect(page.locator("li.todo").first).to_have_id(f"todo-{PAGE_SIZE + 1}")
    expect(page.locator("li.todo")).to_have_count(PAGE_SIZE)
    expect(page.get_by_role("link", name="First page")).to_be_visible()


def test_a_change_elsewhere_refreshes_the_page_being_shown_not_the_first(
    page: Page, live_server: Server, many_todos: str
) -> None:
    shown = PAGE_SIZE + 5
    page.goto(f"{live_server.url}/todos/?after={PAGE_SIZE}")
    expect(page.locator(f"#todo-{shown}")).not_to_have_class("todo finished")

    # Another client finishes a todo of this page (the API, the admin or psql alike).
    _sql(many_todos, "UPDATE todo SET finished = true WHERE id = %s", shown)

    # No reload: the socket's message makes the page re-read itself, page 2 included.
    expect(page.locator(f"#todo-{shown}")).to_have_class("todo finished")
    expect(page.locator("li.todo").first).to_have_id(f"todo-{PAGE_SIZE + 1}")
    expect(page.locator("#todo-1")).to_have_count(0)
