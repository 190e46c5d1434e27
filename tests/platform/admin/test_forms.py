"""Add and change forms generated from the columns: inputs, validation, errors beside fields."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import sqlalchemy as sa

from portal.apps.polls.queries import create_question, get_choices, get_question
from portal.apps.polls.tables import choice, question
from portal.apps.todos.queries import create_todo, get_todo, list_todos
from portal.testing import Client
from tests.platform.admin.conftest import post


def field_error(body: str, field_id: str) -> str | None:
    """The error shown beside input *field_id*, if any."""
    match = re.search(rf'<p class="field-error" id="{field_id}-error">(.*?)</p>', body, re.S)
    return match.group(1) if match else None


async def count(conn: Any, table: sa.Table) -> int:
    return int(await conn.scalar(sa.select(sa.func.count()).select_from(table)))


def question_form(**overrides: str) -> dict[str, str]:
    form = {
        "question_text": "Is this a question?",
        "pub_date": "2026-01-02T03:04:05",
        "choice-TOTAL": "3",
        "choice-0-choice_text": "",
        "choice-0-votes": "0",
        "choice-1-choice_text": "",
        "choice-1-votes": "0",
        "choice-2-choice_text": "",
        "choice-2-votes": "0",
    }
    form.update(overrides)
    return form


# The generated inputs


async def test_add_form_inputs_follow_the_column_types(staff: Client) -> None:
    body = await (await staff.get("/admin/polls/question/add")).text()

    assert "<h1>Add question</h1>" in body
    assert re.search(
        r'<input type="text" id="id_question_text" name="question_text" value="" '
        r'maxlength="200" required>',
        body,
    )
    assert re.search(r'<input type="datetime-local" step="1" id="id_pub_date"', body)
    assert "UTC, YYYY-MM-DD HH:MM:SS" in body
    assert 'name="choice-0-choice_text"' in body
    assert 'name="choice-2-votes"' in body
    assert 'name="choice-3-votes"' not in body
    assert '<input type="hidden" name="choice-TOTAL" value="3">' in body


async def test_boolean_is_a_checkbox_with_its_default(staff: Client) -> None:
    body = await (await staff.get("/admin/platform/users/add")).text()

    assert '<input type="checkbox" id="id_is_active" name="is_active" checked' in body
    assert re.search(r'<input type="checkbox" id="id_is_staff" name="is_staff"[ >]', body)


async def test_a_foreign_key_is_a_select_of_the_referenced_rows_by_title(
    staff: Client, conn: Any
) -> None:
    asked = await create_question(conn, "Which one?", [])

    body = await (await staff.get("/admin/polls/choice/add")).text()

    assert '<select id="id_question_id" name="question_id" required>' in body
    assert f'<option value="{asked.id}">Which one?</option>' in body


async def test_every_input_has_a_label(staff: Client) -> None:
    body = await (await staff.get("/admin/polls/question/add")).text()

    ids = re.findall(
        r'<(?:input|select|textarea) (?:type="(?!hidden)[^"]*" )?[^>]*id="([^"]+)"', body
    )
    labelled = set(re.findall(r'<label[^>]* for="([^"]+)"', body))
    assert ids
    assert set(ids) - {"searchbar"} <= labelled


async def test_readonly_fields_are_shown_but_not_editable(staff: Client, staff_user: Any) -> None:
    body = await (await staff.get(f"/admin/platform/users/{staff_user.id}/")).text()

    assert 'id="id_date_joined" aria-labelledby="id_date_joined-label"' in body
    assert 'name="date_joined"' not in body


async def test_a_posted_readonly_field_is_ignored(staff: Client, conn: Any) -> None:
    asked = await create_question(conn, "Same?", [])

    await post(staff, f"/admin/polls/question/{asked.id}/", question_form(id="999"))

    assert (await get_question(conn, asked.id)).question_text == "Is this a question?"


# Creating and changing


async def test_adding_a_row_stores_it_and_returns_to_the_list(staff: Client, conn: Any) -> None:
    response = await post(staff, "/admin/todos/todo/add", {"name": "Water plants", "_save": "1"})

    assert response.status == 303
    assert response.headers["Location"] == "/admin/todos/todo/"
    [stored] = await list_todos(conn)
    assert (stored.name, stored.finished) == ("Water plants", False)
    body = await (await staff.get("/admin/todos/todo/")).text()
    assert "The todo “Water plants” was added." in body


async def test_save_and_continue_goes_to_the_new_row(staff: Client, conn: Any) -> None:
    response = await post(staff, "/admin/todos/todo/add", {"name": "Again", "_continue": "1"})

    [stored] = await list_todos(conn)
    assert response.headers["Location"] == f"/admin/todos/todo/{stored.id}/"


async def test_save_and_add_another_goes_to_an_empty_form(staff: Client) -> None:
    response = await post(staff, "/admin/todos/todo/add", {"name": "One", "_addanother": "1"})

    assert response.headers["Location"] == "/admin/todos/todo/add"


async def test_changing_a_row_stores_the_new_values(staff: Client, conn: Any) -> None:
    stored = await create_todo(conn, "Old name")

    response = await post(
        staff, f"/admin/todos/todo/{stored.id}/", {"name": "New name", "finished": "on"}
    )

    assert response.status == 303
    changed = await get_todo(conn, stored.id)
    assert (changed.name, changed.finished) == ("New name", True)


async def test_change_form_shows_the_stored_values(staff: Client, conn: Any) -> None:
    asked = await create_question(
        conn, "Shown?", ["x"], dt.datetime(2025, 5, 6, 7, 8, 9, tzinfo=dt.UTC)
    )

    body = await (await staff.get(f"/admin/polls/question/{asked.id}/")).text()

    assert 'value="Shown?"' in body
    assert 'value="2025-05-06T07:08:09"' in body
    assert 'value="x"' in body


async def test_unticking_a_checkbox_stores_false(staff: Client, conn: Any) -> None:
    stored = await create_todo(conn, "Done", finished=True)

    await post(staff, f"/admin/todos/todo/{stored.id}/", {"name": "Done"})

    assert (await get_todo(conn, stored.id)).finished is False


# Validation: errors beside the fields, input kept, nothing stored


async def test_a_missing_required_field_is_an_error_beside_it(staff: Client, conn: Any) -> None:
    response = await post(staff, "/admin/polls/question/add", question_form(question_text="  "))

    body = await response.text()
    assert response.status == 400
    assert field_error(body, "id_question_text") == "This field is required."
    assert 'aria-describedby="id_question_text-error" aria-invalid="true"' in body
    assert 'value="2026-01-02T03:04:05"' in body
    assert await count(conn, question) == 0


async def test_a_too_long_value_is_refused_on_the_server(staff: Client, conn: Any) -> None:
    long = "x" * 201

    response = await post(staff, "/admin/polls/question/add", question_form(question_text=long))

    body = await response.text()
    assert field_error(body, "id_question_text") == (
        "Ensure this value has at most 200 characters (it has 201)."
    )
    assert f'value="{long}"' in body
    assert await count(conn, question) == 0


async def test_a_bad_integer_is_an_error_with_the_input_kept(staff: Client, conn: Any) -> None:
    asked = await create_question(conn, "Votes?", [])

    response = await post(
        staff,
        "/admin/polls/choice/add",
        {"question_id": str(asked.id), "choice_text": "Yes", "votes": "lots"},
    )

    body = await response.text()
    assert field_error(body, "id_votes") == "Enter a whole number."
    assert 'value="lots"' in body
    assert 'value="Yes"' in body
    assert await count(conn, choice) == 0


async def test_an_integer_out_of_range_is_an_error(staff: Client, conn: Any) -> None:
    asked = await create_question(conn, "Votes?", [])

    response = await post(
        staff,
        "/admin/polls/choice/add",
        {"question_id": str(asked.id), "choice_text": "Yes", "votes": str(2**31)},
    )

    assert field_error(await response.text(), "id_votes") == (
        "Enter a number between -2147483648 and 2147483647."
    )


async def test_a_bad_date_is_an_error_with_the_input_kept(staff: Client, conn: Any) -> None:
    response = await post(
        staff, "/admin/polls/question/add", question_form(pub_date="2026-02-30T10:00")
    )

    body = await response.text()
    assert field_error(body, "id_pub_date") == (
        "Enter a date and time in UTC as YYYY-MM-DD HH:MM (seconds optional)."
    )
    assert 'value="2026-02-30T10:00"' in body
    assert await count(conn, question) == 0


async def test_a_date_without_seconds_is_accepted_as_utc(staff: Client, conn: Any) -> None:
    await post(staff, "/admin/polls/question/add", question_form(pub_date="2026-03-04 05:06"))

    [stored] = [q async for q in await conn.execute(sa.select(question))]
    assert stored.pub_date == dt.datetime(2026, 3, 4, 5, 6, tzinfo=dt.UTC)


async def test_a_foreign_key_to_a_missing_row_is_an_error(staff: Client, conn: Any) -> None:
    response = await post(
        staff,
        "/admin/polls/choice/add",
        {"question_id": "4242", "choice_text": "Orphan", "votes": "0"},
    )

    body = await response.text()
    assert response.status == 400
    assert field_error(body, "id_question_id") == (
        "Select a valid choice; that row does not exist."
    )
    assert await count(conn, choice) == 0


async def test_a_duplicate_unique_value_is_a_field_error_not_a_500(
    staff: Client, conn: Any
) -> None:
    await create_todo(conn, "Taken")

    response = await post(staff, "/admin/todos/todo/add", {"name": "Taken", "finished": "on"})

    body = await response.text()
    assert response.status == 400
    assert field_error(body, "id_name") == "A todo with this name already exists."
    assert 'value="Taken"' in body
    assert 'id="id_finished" name="finished" checked' in body
    assert [t.name for t in await list_todos(conn)] == ["Taken"]


async def test_renaming_onto_a_taken_name_is_a_field_error(staff: Client, conn: Any) -> None:
    await create_todo(conn, "Taken")
    other = await create_todo(conn, "Other")

    response = await post(staff, f"/admin/todos/todo/{other.id}/", {"name": "Taken"})

    assert field_error(await response.text(), "id_name") == (
        "A todo with this name already exists."
    )
    assert (await get_todo(conn, other.id)).name == "Other"


async def test_a_nul_character_is_refused(staff: Client, conn: Any) -> None:
    response = await post(staff, "/admin/todos/todo/add", {"name": "bad\x00name"})

    assert field_error(await response.text(), "id_name") == (
        "This value must not contain NUL characters."
    )
    assert await list_todos(conn) == []


# Inline choices on their question


async def test_a_question_is_added_with_its_choices(staff: Client, conn: Any) -> None:
    form = question_form(**{"choice-0-choice_text": "Yes", "choice-1-choice_text": "No"})

    response = await post(staff, "/admin/polls/question/add", form)

    assert response.status == 303
    [asked] = [row async for row in await conn.execute(sa.select(question))]
    assert [c.choice_text for c in await get_choices(conn, asked.id)] == ["Yes", "No"]


async def test_blank_extra_rows_add_nothing(staff: Client, conn: Any) -> None:
    await post(staff, "/admin/polls/question/add", question_form())

    assert await count(conn, choice) == 0


async def _inline_form(asked_id: int, conn: Any, **changes: str) -> dict[str, str]:
    choices = await get_choices(conn, asked_id)
    form = {
        "question_text": "Pick?",
        "pub_date": "2026-01-02T03:04:05",
        "choice-TOTAL": str(len(choices) + 1),
    }
    for index, existing in enumerate(choices):
        form[f"choice-{index}-id"] = str(existing.id)
        form[f"choice-{index}-choice_text"] = existing.choice_text
        form[f"choice-{index}-votes"] = str(existing.votes)
    new = len(choices)
    form[f"choice-{new}-choice_text"] = ""
    form[f"choice-{new}-votes"] = "0"
    form.update(changes)
    return form


async def test_an_inline_choice_is_edited_on_its_question(staff: Client, conn: Any) -> None:
    asked = await create_question(conn, "Pick?", ["Red", "Blue"])

    form = await _inline_form(asked.id, conn, **{"choice-1-choice_text": "Green"})
    response = await post(staff, f"/admin/polls/question/{asked.id}/", form)

    assert response.status == 303
    assert [c.choice_text for c in await get_choices(conn, asked.id)] == ["Red", "Green"]


async def test_an_inline_choice_is_added_on_its_question(staff: Client, conn: Any) -> None:
    asked = await create_question(conn, "Pick?", ["Red"])

    form = await _inline_form(
        asked.id, conn, **{"choice-1-choice_text": "Blue", "choice-1-votes": "4"}
    )
    await post(staff, f"/admin/polls/question/{asked.id}/", form)

    assert [(c.choice_text, c.votes) for c in await get_choices(conn, asked.id)] == [
        ("Red", 0),
        ("Blue", 4),
    ]


async def test_an_inline_choice_is_deleted_with_its_checkbox(staff: Client, conn: Any) -> None:
    asked = await create_question(conn, "Pick?", ["Red", "Blue"])

    form = await _inline_form(asked.id, conn, **{"choice-0-DELETE": "on"})
    await post(staff, f"/admin/polls/question/{asked.id}/", form)

    assert [c.choice_text for c in await get_choices(conn, asked.id)] == ["Blue"]


async def test_an_invalid_inline_row_keeps_everything_unsaved(staff: Client, conn: Any) -> None:
    asked = await create_question(conn, "Pick?", ["Red"])

    form = await _inline_form(
        asked.id,
        conn,
        question_text="Changed?",
        **{"choice-0-choice_text": "", "choice-1-choice_text": "New", "choice-1-votes": "x"},
    )
    response = await post(staff, f"/admin/polls/question/{asked.id}/", form)

    body = await response.text()
    assert response.status == 400
    assert field_error(body, "choice-0-choice_text") == "This field is required."
    assert field_error(body, "choice-1-votes") == "Enter a whole number."
    assert 'value="New"' in body
    assert (await get_question(conn, asked.id)).question_text == "Pick?"
    assert [c.choice_text for c in await get_choices(conn, asked.id)] == ["Red"]


async def test_an_inline_row_of_another_question_cannot_be_edited(staff: Client, conn: Any) -> None:
    mine = await create_question(conn, "Mine?", ["Mine"])
    theirs = await create_question(conn, "Theirs?", ["Theirs"])
    [their_choice] = await get_choices(conn, theirs.id)

    form = await _inline_form(
        mine.id,
        conn,
        **{"choice-0-id": str(their_choice.id), "choice-0-choice_text": "Hijacked"},
    )
    response = await post(staff, f"/admin/polls/question/{mine.id}/", form)

    assert response.status == 400
    assert [c.choice_text for c in await get_choices(conn, theirs.id)] == ["Theirs"]


async def test_a_missing_row_is_the_404_page(staff: Client) -> None:
    response = await staff.get("/admin/todos/todo/4242/")

    assert response.status == 404
    assert response.content_type == "text/html"


async def test_posting_to_a_missing_row_is_the_404_page(staff: Client) -> None:
    response = await post(staff, "/admin/todos/todo/4242/", {"name": "x"})

    assert response.status == 404


async def test_an_id_too_large_for_the_column_is_the_404_page(staff: Client) -> None:
    response = await staff.get("/admin/todos/todo/99999999999999999999/")

    assert response.status == 404
