"""Deleting one row: a confirmation page listing what the cascade removes, then POST."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from portal.apps.polls.queries import create_question, get_choices
from portal.apps.polls.tables import choice, question
from portal.apps.todos.queries import create_todo, list_todos
from portal.platform.admin import history
from portal.platform.admin.tables import admin_log
from portal.platform.auth.tables import api_tokens
from portal.platform.auth.tokens import create_token
from portal.platform.auth.users import User, create_user
from portal.testing import PASSWORD, Client
from tests.platform.admin.conftest import post


async def test_delete_confirmation_lists_the_choices_the_cascade_removes(
    staff: Client, conn: Any
) -> None:
    asked = await create_question(conn, "Going?", ["Yes", "No", "Maybe"])
    choices = await get_choices(conn, asked.id)

    response = await staff.get(f"/admin/polls/question/{asked.id}/delete")

    body = await response.text()
    assert response.status == 200
    assert "<h1>Delete question “Going?”?</h1>" in body
    assert "3 choices" in body
    for listed in choices:
        assert f'href="/admin/polls/choice/{listed.id}/">{listed.choice_text}</a>' in body
    assert 'id="confirm"' in body
    assert await conn.scalar(sa.select(sa.func.count()).select_from(choice)) == 3


async def test_confirmed_delete_removes_the_row_and_its_cascade(staff: Client, conn: Any) -> None:
    asked = await create_question(conn, "Going?", ["Yes", "No"])

    response = await post(staff, f"/admin/polls/question/{asked.id}/delete", {})

    assert response.status == 303
    assert response.headers["Location"] == "/admin/polls/question/"
    assert await conn.scalar(sa.select(sa.func.count()).select_from(question)) == 0
    assert await conn.scalar(sa.select(sa.func.count()).select_from(choice)) == 0
    body = await (await staff.get("/admin/polls/question/")).text()
    assert "The question “Going?” was deleted." in body


async def test_a_row_without_dependents_lists_only_itself(staff: Client, conn: Any) -> None:
    stored = await create_todo(conn, "Alone")

    body = await (await staff.get(f"/admin/todos/todo/{stored.id}/delete")).text()

    assert "Alone" in body
    assert 'id="cascade"' not in body


async def test_deleting_a_user_lists_their_api_tokens(staff: Client, conn: Any) -> None:
    bob = await create_user(conn, "bob", PASSWORD)
    await create_token(conn, bob.id, "laptop")

    body = await (await staff.get(f"/admin/platform/users/{bob.id}/delete")).text()

    assert "1 API token" in body
    assert "laptop" in body


async def test_deleting_a_user_deletes_their_tokens_and_keeps_the_log(
    staff: Client, conn: Any, staff_user: User
) -> None:
    bob = await create_user(conn, "bob", PASSWORD, is_staff=True)
    await create_token(conn, bob.id, "laptop")
    await history.record(
        conn, bob, app="todos", table="todo", row_id=1, action="create", changes={}, summary="x"
    )

    await post(staff, f"/admin/platform/users/{bob.id}/delete", {})

    assert await conn.scalar(sa.select(sa.func.count()).select_from(api_tokens)) == 0
    kept = await (
        await conn.execute(sa.select(admin_log).where(admin_log.c.summary == "x"))
    ).first()
    assert (kept.user_id, kept.username) == (None, "bob")


async def test_the_delete_get_changes_nothing(staff: Client, conn: Any) -> None:
    stored = await create_todo(conn, "Still here")

    await staff.get(f"/admin/todos/todo/{stored.id}/delete")

    assert [t.name for t in await list_todos(conn)] == ["Still here"]


async def test_deleting_a_missing_row_is_the_404_page(staff: Client) -> None:
    assert (await staff.get("/admin/todos/todo/4242/delete")).status == 404
    assert (await post(staff, "/admin/todos/todo/4242/delete", {})).status == 404


async def test_a_table_that_forbids_deleting_has_no_delete_page(staff: Client, conn: Any) -> None:
    stored = await create_todo(conn, "Logged")
    await post(staff, f"/admin/todos/todo/{stored.id}/", {"name": "Logged!"})

    response = await staff.get("/admin/platform/admin_log/1/delete")

    assert response.status == 404
