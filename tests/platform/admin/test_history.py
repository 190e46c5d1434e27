"""The change log: every create, change and delete through the admin, who and what."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from portal.apps.polls.queries import create_question, get_choices
from portal.apps.todos.queries import create_todo, list_todos
from portal.platform.admin.tables import admin_log
from portal.platform.auth.users import User
from portal.testing import Client
from tests.platform.admin.conftest import post


async def entries(conn: Any) -> list[Any]:
    return [row async for row in await conn.execute(sa.select(admin_log).order_by(admin_log.c.id))]


async def test_creating_a_row_is_logged_with_who_and_the_values(
    staff: Client, conn: Any, staff_user: User
) -> None:
    await post(staff, "/admin/todos/todo/add", {"name": "Logged", "finished": "on"})

    [entry] = await entries(conn)
    [stored] = await list_todos(conn)
    assert (entry.app, entry.table_name, entry.row_id, entry.action) == (
        "todos",
        "todo",
        stored.id,
        "create",
    )
    assert (entry.user_id, entry.username) == (staff_user.id, "admin")
    assert entry.changes == {"name": [None, "Logged"], "finished": [None, True]}
    assert entry.summary == "Added todo “Logged”."
    assert entry.at is not None


async def test_changing_a_row_logs_only_the_fields_that_changed(staff: Client, conn: Any) -> None:
    stored = await create_todo(conn, "Before")

    await post(staff, f"/admin/todos/todo/{stored.id}/", {"name": "After"})

    [entry] = await entries(conn)
    assert entry.action == "change"
    assert entry.changes == {"name": ["Before", "After"]}
    assert entry.summary == "Changed Name."


async def test_saving_without_changes_logs_nothing(staff: Client, conn: Any) -> None:
    stored = await create_todo(conn, "Same")

    await post(staff, f"/admin/todos/todo/{stored.id}/", {"name": "Same"})

    assert await entries(conn) == []


async def test_resaving_a_time_with_microseconds_is_not_a_change(staff: Client, conn: Any) -> None:
    asked = await create_question(conn, "When?", [])
    body = await (await staff.get(f"/admin/polls/question/{asked.id}/")).text()
    shown = body.split('id="id_pub_date" name="pub_date" value="')[1].split('"')[0]

    await post(
        staff,
        f"/admin/polls/question/{asked.id}/",
        {"question_text": "When?", "pub_date": shown, "choice-TOTAL": "0"},
    )

    assert await entries(conn) == []


async def test_deleting_a_row_logs_what_it_held(staff: Client, conn: Any) -> None:
    stored = await create_todo(conn, "Gone", finished=True)

    await post(staff, f"/admin/todos/todo/{stored.id}/delete", {})

    [entry] = await entries(conn)
    assert entry.action == "delete"
    assert entry.changes == {"name": ["Gone", None], "finished": [True, None]}
    assert entry.summary == "Deleted todo “Gone”."


async def test_inline_changes_are_logged_on_the_parent(staff: Client, conn: Any) -> None:
    asked = await create_question(conn, "Colour?", ["Red", "Blue"])
    red, blue = await get_choices(conn, asked.id)
    form = {
        "question_text": "Colour?",
        "pub_date": "2026-01-02T03:04:05",
        "choice-TOTAL": "3",
        "choice-0-id": str(red.id),
        "choice-0-choice_text": "Crimson",
        "choice-0-votes": "0",
        "choice-1-id": str(blue.id),
        "choice-1-choice_text": "Blue",
        "choice-1-votes": "0",
        "choice-1-DELETE": "on",
        "choice-2-choice_text": "Green",
        "choice-2-votes": "0",
    }

    await post(staff, f"/admin/polls/question/{asked.id}/", form)

    [entry] = await entries(conn)
    [_, green] = await get_choices(conn, asked.id)
    assert entry.table_name == "question"
    assert entry.changes[f"choice #{red.id}: Choice"] == ["Red", "Crimson"]
    assert entry.changes[f"choice #{blue.id}"] == ["Blue", None]
    assert entry.changes[f"choice #{green.id}"] == [None, "Green"]
    assert "Changed Choice of choice “Crimson”." in entry.summary
    assert "Deleted choice “Blue”." in entry.summary
    assert "Added choice “Green”." in entry.summary


async def test_a_rows_history_page_shows_each_change_newest_first(staff: Client, conn: Any) -> None:
    await post(staff, "/admin/todos/todo/add", {"name": "First"})
    [stored] = await list_todos(conn)
    await post(staff, f"/admin/todos/todo/{stored.id}/", {"name": "Second"})

    response = await staff.get(f"/admin/todos/todo/{stored.id}/history")

    body = await response.text()
    assert response.status == 200
    assert "<h1>History of todo “Second”</h1>" in body
    assert body.index("Changed Name.") < body.index("Added todo “First”.")
    assert '<td class="who">admin</td>' in body
    assert '<td class="old">First</td>' in body
    assert "Second</td>" in body


async def test_a_deleted_rows_history_is_still_shown(staff: Client, conn: Any) -> None:
    stored = await create_todo(conn, "Ephemeral")
    await post(staff, f"/admin/todos/todo/{stored.id}/delete", {})

    response = await staff.get(f"/admin/todos/todo/{stored.id}/history")

    assert response.status == 200
    assert "Deleted todo “Ephemeral”." in await response.text()


async def test_history_of_a_row_that_never_existed_is_the_404_page(staff: Client) -> None:
    assert (await staff.get("/admin/todos/todo/4242/history")).status == 404


async def test_the_dashboard_shows_the_recent_changes(staff: Client, conn: Any) -> None:
    stored = await create_todo(conn, "Recent")
    await post(staff, f"/admin/todos/todo/{stored.id}/", {"name": "Recently"})

    body = await (await staff.get("/admin/")).text()

    assert f'href="/admin/todos/todo/{stored.id}/">Changed Name.</a>' in body
    assert "by admin" in body


async def test_the_dashboard_shows_at_most_ten_changes(staff: Client, conn: Any) -> None:
    for n in range(12):
        await post(staff, "/admin/todos/todo/add", {"name": f"todo {n}"})

    body = await (await staff.get("/admin/")).text()

    assert body.count('<li class="entry entry-create"') == 10
    assert "todo 11" in body
    assert "“todo 0”" not in body


async def test_a_failed_change_logs_nothing(staff: Client, conn: Any) -> None:
    await create_todo(conn, "Taken")

    await post(staff, "/admin/todos/todo/add", {"name": "Taken"})

    assert await entries(conn) == []


async def test_the_history_lists_fields_in_column_order_then_inline_rows(
    staff: Client, conn: Any
) -> None:
    form = {
        "question_text": "Ordered?",
        "pub_date": "2026-01-02T03:04:05",
        "choice-TOTAL": "2",
        "choice-0-choice_text": "First",
        "choice-0-votes": "0",
        "choice-1-choice_text": "Second",
        "choice-1-votes": "0",
    }
    await post(staff, "/admin/polls/question/add", form)
    [entry] = await entries(conn)

    body = await (await staff.get(f"/admin/polls/question/{entry.row_id}/history")).text()

    fields = re.findall(r'<tr data-field="([^"]+)">', body)
    assert fields[:2] == ["question_text", "pub_date"]
    assert fields[2:] == sorted(fields[2:], key=lambda f: int(f.split("#")[1]))


_ENTRY_ID = re.compile(r'id="entry-(\d+)"')
_OLDER = re.compile(r'<a href="([^"]+)" rel="next">Older changes</a>')


async def test_a_long_history_is_shown_a_page_at_a_time(
    staff: Client, conn: Any, staff_user: User
) -> None:
    stored = await create_todo(conn, "Busy")
    await conn.execute(
        sa.text(
            "INSERT INTO admin_log (user_id, username, app, table_name, row_id, action, "
            "changes, summary) SELECT :user_id, 'admin', 'todos', 'todo', :row_id, 'change', "
            "'{}'::jsonb, 'Changed ' || n FROM generate_series(1, 20000) AS n"
        ),
        user_id=staff_user.id,
        row_id=stored.id,
    )

    first = await staff.get(f"/admin/todos/todo/{stored.id}/history")
    first_html = await first.text()
    older = _OLDER.search(first_html)
    assert older is not None
    second_html = await (await staff.get(older.group(1).replace("&amp;", "&"))).text()

    first_ids = [int(n) for n in _ENTRY_ID.findall(first_html)]
    second_ids = [int(n) for n in _ENTRY_ID.findall(second_html)]
    assert len(first_ids) == len(second_ids) == 50
    assert first_ids[0] == 20000
    assert second_ids == list(range(first_ids[-1] - 1, first_ids[-1] - 51, -1))
    assert len(first_html) < 200_000


async def test_a_history_page_with_a_bad_start_is_a_400(staff: Client, conn: Any) -> None:
    stored = await create_todo(conn, "Busy")

    response = await staff.get(f"/admin/todos/todo/{stored.id}/history?before=x1")

    assert response.status == 400
