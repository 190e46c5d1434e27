"""A question with 20,000 choices: its change form holds the first few, and links the rest."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from portal.apps.polls.queries import create_question
from portal.apps.polls.tables import choice
from portal.platform.admin.forms import INLINE_ROWS
from portal.testing import Client
from tests.platform.admin.conftest import post

MANY = 20_000
_EXISTING = re.compile(r'<tr id="choice-(\d+)" class="existing')
#: The form with 50 choices and the page around it is ~40 KB; 20,000 choices would be ~10 MB.
BOUND = 128 * 1024


async def _question_with_choices(conn: Any, count: int) -> int:
    """A question with *count* choices ``choice 1`` ... (ids 1 to *count*), in one statement."""
    asked = await create_question(conn, "Which one?", [])
    n = sa.func.generate_series(1, count).table_valued("n").render_derived()
    await conn.execute(
        choice.insert().from_select(
            ["question_id", "choice_text", "votes"],
            sa.select(sa.literal(asked.id), sa.func.concat("choice ", n.c.n), sa.literal(0)),
        )
    )
    return asked.id


async def _texts(conn: Any, question_id: int) -> list[str]:
    """The question's choice texts by id, read straight from the table."""
    statement = (
        sa.select(choice.c.choice_text)
        .where(choice.c.question_id == question_id)
        .order_by(choice.c.id)
    )
    return [row[0] async for row in await conn.execute(statement)]


@pytest.fixture
async def crowded(conn: Any) -> int:
    """The id of a question with 20,000 choices."""
    return await _question_with_choices(conn, MANY)


async def test_the_change_form_of_a_crowded_question_is_bounded(
    staff: Client, crowded: int
) -> None:
    response = await staff.get(f"/admin/polls/question/{crowded}/")

    body = await response.text()
    assert response.status == 200
    assert len(_EXISTING.findall(body)) == INLINE_ROWS
    assert 'value="choice 1"' in body
    assert f'value="choice {INLINE_ROWS}"' in body
    assert f'value="choice {INLINE_ROWS + 1}"' not in body
    assert len(body.encode()) < BOUND


async def test_the_change_form_links_the_full_filtered_list_of_choices(
    staff: Client, crowded: int
) -> None:
    body = await (await staff.get(f"/admin/polls/question/{crowded}/")).text()

    assert f"Showing the first {INLINE_ROWS} of {MANY:,} choices." in body
    link = f'<a href="/admin/polls/choice/?f_question_id={crowded}">See all {MANY:,} choices</a>'
    assert link in body
    listed = await staff.get(f"/admin/polls/choice/?f_question_id={crowded}")
    assert f"{MANY:,} choices found" in await listed.text()


async def test_only_a_question_with_more_than_a_full_inline_gets_the_link(
    staff: Client, conn: Any
) -> None:
    few = await create_question(conn, "Few?", ["a", "b"])
    full = await _question_with_choices(conn, INLINE_ROWS)
    over = await _question_with_choices(conn, INLINE_ROWS + 1)

    bodies = {
        asked: await (await staff.get(f"/admin/polls/question/{asked}/")).text()
        for asked in (few.id, full, over)
    }

    assert [len(_EXISTING.findall(bodies[asked])) for asked in (few.id, full, over)] == [
        2,
        INLINE_ROWS,
        INLINE_ROWS,
    ]
    assert "See all" not in bodies[few.id]
    assert "See all" not in bodies[full]
    assert f"Showing the first {INLINE_ROWS} of {INLINE_ROWS + 1} choices." in bodies[over]


def _form_fields(body: str) -> list[tuple[str, str]]:
    """The inputs of the change form as a browser would post them (unticked boxes left out)."""
    form = re.search(r'<form method="post" id="admin-form".*?</form>', body, re.S)
    assert form
    fields = []
    for tag in re.findall(r"<input [^>]*>", form.group(0)):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name is None or ('type="checkbox"' in tag and "checked" not in tag):
            continue
        fields.append((name.group(1), value.group(1) if value else ""))
    return fields


async def test_saving_a_crowded_question_edits_the_shown_choices_and_keeps_the_rest(
    staff: Client, conn: Any, crowded: int
) -> None:
    page = await (await staff.get(f"/admin/polls/question/{crowded}/")).text()
    fields = dict(_form_fields(page))
    fields["choice-1-choice_text"] = "renamed"
    fields.pop("csrf_token")

    response = await post(staff, f"/admin/polls/question/{crowded}/", fields)

    assert response.status == 303
    texts = await _texts(conn, crowded)
    assert len(texts) == MANY
    assert texts[1] == "renamed"
    assert texts[INLINE_ROWS : INLINE_ROWS + 2] == [
        f"choice {INLINE_ROWS + 1}",
        f"choice {INLINE_ROWS + 2}",
    ]
    # A form may still name a choice beyond the shown ones, of the same question.
    beyond = {
        "question_text": "Which one?",
        "pub_date": "2026-01-02T03:04:05",
        "choice-TOTAL": "1",
        "choice-0-id": str(MANY),
        "choice-0-choice_text": "the last, renamed",
        "choice-0-votes": "0",
    }
    assert (await post(staff, f"/admin/polls/question/{crowded}/", beyond)).status == 303
    assert (await _texts(conn, crowded))[-1] == "the last, renamed"


async def test_an_invalid_post_shows_the_posted_rows_and_still_links_the_rest(
    staff: Client, crowded: int
) -> None:
    form = {
        "question_text": "",
        "pub_date": "2026-01-02T03:04:05",
        "choice-TOTAL": "1",
        "choice-0-id": "1",
        "choice-0-choice_text": "choice 1",
        "choice-0-votes": "0",
    }

    response = await post(staff, f"/admin/polls/question/{crowded}/", form)

    body = await response.text()
    assert response.status == 400
    assert len(_EXISTING.findall(body)) == 1
    assert f'<a href="/admin/polls/choice/?f_question_id={crowded}">See all' in body
    assert len(body.encode()) < BOUND
