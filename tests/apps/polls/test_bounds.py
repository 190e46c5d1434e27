"""No polls page grows with a table: a question with 20,000 choices, and 20,000 questions.

The rows are arranged before the site starts, so that their 20,000 change
notifications reach no listener.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from portal.apps.polls.queries import MAX_CHOICES
from portal.apps.polls.tables import choice
from portal.testing import Client, MakeClient, csrf_token
from tests.apps.polls.conftest import Poll, create_crowded_question

MANY = 20_000
#: Far above a page of MAX_CHOICES choices (about 20 KB), far below one of MANY (megabytes).
PAGE_BYTES = 100_000

_RADIO = re.compile(r'<input type="radio" name="choice"')
_ROW = re.compile(r'<tr data-choice-id="\d+">')


@pytest.fixture
async def crowded(conn: Any) -> Poll:
    """A question with :data:`MANY` choices."""
    return await create_crowded_question(conn, MANY)


@pytest.fixture
async def site(make_client: MakeClient, crowded: Poll) -> Client:
    """The site, started after the crowded question was arranged."""
    return await make_client()


async def test_detail_page_shows_a_bounded_number_of_choices(site: Client, crowded: Poll) -> None:
    response = await site.get(f"/polls/{crowded.id}/")

    body = await response.text()
    assert response.status == 200
    assert len(_RADIO.findall(body)) == MAX_CHOICES
    assert f"Only the first {MAX_CHOICES} choices are shown." in body
    assert len(body.encode()) < PAGE_BYTES


async def test_results_page_shows_a_bounded_number_of_choices(site: Client, crowded: Poll) -> None:
    response = await site.get(f"/polls/{crowded.id}/results")

    body = await response.text()
    assert response.status == 200
    assert len(_ROW.findall(body)) == MAX_CHOICES
    assert f"Only the first {MAX_CHOICES} choices are shown." in body
    assert "0 votes</span> for the choices shown." in body
    assert len(body.encode()) < PAGE_BYTES


async def test_vote_for_a_choice_beyond_the_page_is_still_counted(
    site: Client, crowded: Poll, conn: Any
) -> None:
    hidden = crowded.choice_ids[-1]
    token = await csrf_token(site, f"/polls/{crowded.id}/")

    response = await site.post(
        f"/polls/{crowded.id}/vote",
        data={"choice": str(hidden), "csrf_token": token},
        allow_redirects=False,
    )

    assert response.status == 303
    assert await conn.scalar(sa.select(choice.c.votes).where(choice.c.id == hidden)) == 1


async def test_live_socket_snapshot_is_bounded(site: Client, crowded: Poll) -> None:
    ws = await site.ws_connect(f"/polls/{crowded.id}/live")

    snapshot = await ws.receive_json(timeout=10)
    await ws.close()

    assert snapshot["type"] == "snapshot"
    assert [c["id"] for c in snapshot["choices"]] == crowded.choice_ids[:MAX_CHOICES]


async def test_live_socket_sends_only_the_votes_of_the_choices_shown(
    site: Client, crowded: Poll, conn: Any
) -> None:
    hidden, shown = crowded.choice_ids[-1], crowded.choice_ids[0]
    ws = await site.ws_connect(f"/polls/{crowded.id}/live")
    await ws.receive_json(timeout=10)

    # Events arrive in commit order: had the hidden vote been sent, it would come first.
    for choice_id in (hidden, shown):
        await conn.execute(
            choice.update().where(choice.c.id == choice_id).values(votes=choice.c.votes + 1)
        )
    message = await ws.receive_json(timeout=10)
    await ws.close()

    assert message == {"type": "votes", "choice_id": shown, "votes": 1}


async def test_a_question_with_exactly_the_most_choices_shows_them_all(
    make_client: MakeClient, conn: Any
) -> None:
    full = await create_crowded_question(conn, MAX_CHOICES)
    site = await make_client()

    detail = await (await site.get(f"/polls/{full.id}/")).text()
    results = await (await site.get(f"/polls/{full.id}/results")).text()

    assert len(_RADIO.findall(detail)) == MAX_CHOICES
    assert "Only the first" not in detail
    assert "Only the first" not in results
    assert "0 votes</span> in all." in results


async def test_index_shows_the_latest_ten_of_many_questions(
    make_client: MakeClient, conn: Any
) -> None:
    await conn.execute(
        sa.text(
            "INSERT INTO question (question_text, pub_date) "
            "SELECT 'Question ' || n, now() - n * interval '1 minute' "
            "FROM generate_series(1, :count) AS n"
        ),
        count=MANY,
    )
    site = await make_client()

    body = await (await site.get("/polls/")).text()

    listed = re.findall(r'<li><a href="/polls/\d+/">([^<]*)</a></li>', body)
    assert listed == [f"Question {n}" for n in range(1, 11)]
    assert len(body.encode()) < PAGE_BYTES
