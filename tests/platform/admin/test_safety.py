"""Safety: CSRF on every form, escaping, POST-only changes, 404s for unknown names and ids."""

from __future__ import annotations

import re
from typing import Any

from portal.apps.polls.queries import create_question
from portal.apps.todos.queries import create_todo, list_todos
from portal.testing import Client


async def test_a_post_without_the_csrf_token_is_refused(staff: Client, conn: Any) -> None:
    response = await staff.post("/admin/todos/todo/add", data={"name": "Forged"})

    assert response.status == 403
    assert await list_todos(conn) == []


async def test_a_delete_without_the_csrf_token_is_refused(staff: Client, conn: Any) -> None:
    stored = await create_todo(conn, "Kept")

    response = await staff.post(f"/admin/todos/todo/{stored.id}/delete", data={})

    assert response.status == 403
    assert [t.name for t in await list_todos(conn)] == ["Kept"]


async def test_every_admin_form_that_posts_carries_the_token(staff: Client, conn: Any) -> None:
    asked = await create_question(conn, "Forms?", ["a"])
    paths = [
        "/admin/polls/question/add",
        f"/admin/polls/question/{asked.id}/",
        f"/admin/polls/question/{asked.id}/delete",
        f"/admin/polls/question/bulk?action=delete&ids={asked.id}",
    ]
    for path in paths:
        body = await (await staff.get(path)).text()
        for form in re.findall(r'<form [^>]*method="post".*?</form>', body, re.S):
            assert 'name="csrf_token"' in form, path


async def test_a_script_in_a_question_renders_as_text(staff: Client, conn: Any) -> None:
    asked = await create_question(conn, "<script>alert(1)</script>", ["<b>bold</b>"])

    for path in (
        "/admin/polls/question/",
        f"/admin/polls/question/{asked.id}/",
        f"/admin/polls/question/{asked.id}/delete",
        "/admin/polls/choice/",
    ):
        body = await (await staff.get(path)).text()
        assert "<script>alert(1)</script>" not in body, path
        assert "<b>bold</b>" not in body, path
    list_body = await (await staff.get("/admin/polls/question/")).text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in list_body


async def test_a_search_query_is_escaped_in_the_page(staff: Client) -> None:
    body = await (await staff.get('/admin/todos/todo/?q="><script>x</script>')).text()

    assert "<script>x</script>" not in body


async def test_an_unknown_table_is_the_404_page(staff: Client) -> None:
    response = await staff.get("/admin/todos/users/")

    assert response.status == 404
    assert "There is no such table in the admin." in await response.text()


async def test_an_unregistered_table_of_the_database_is_the_404_page(staff: Client) -> None:
    assert (await staff.get("/admin/polls/alembic_version/")).status == 404


async def test_an_unknown_app_is_the_404_page(staff: Client) -> None:
    assert (await staff.get("/admin/blog/post/")).status == 404


async def test_a_url_name_that_is_not_an_identifier_is_the_404_page(staff: Client) -> None:
    assert (await staff.get("/admin/todos/todo%3B%20drop%20table%20todo/")).status == 404


async def test_a_get_never_changes_anything(staff: Client, conn: Any) -> None:
    stored = await create_todo(conn, "Safe")

    await staff.get(f"/admin/todos/todo/bulk?action=delete&ids={stored.id}")
    await staff.get(f"/admin/todos/todo/{stored.id}/delete")

    assert [t.name for t in await list_todos(conn)] == ["Safe"]


async def test_the_list_page_links_through_url_helpers(staff: Client) -> None:
    body = await (await staff.get("/admin/todos/todo/")).text()

    assert re.search(r'href="/admin/static/admin\.css\?v=', body)
