"""The sample polls: loaded once however often the seed runs."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from markupsafe import escape

from portal.apps.polls import queries
from portal.apps.polls.seed import SAMPLE_QUESTIONS, seed
from portal.apps.polls.tables import question
from portal.testing import Client


async def _question_texts(conn: Any) -> list[str]:
    rows = await conn.execute(sa.select(question.c.question_text).order_by(question.c.id))
    return [row.question_text async for row in rows]


async def test_seed_twice_leaves_each_sample_question_once(conn: Any) -> None:
    await seed(conn)
    await seed(conn)

    assert await _question_texts(conn) == [text for text, _ in SAMPLE_QUESTIONS]


async def test_seed_gives_each_sample_question_its_choices(conn: Any) -> None:
    await seed(conn)

    for published in await queries.latest_questions(conn):
        choices = await queries.get_choices(conn, published.id)
        expected = dict(SAMPLE_QUESTIONS)[published.question_text]
        assert tuple(c.choice_text for c in choices) == expected
        assert all(c.votes == 0 for c in choices)
    assert await queries.count_questions(conn) == len(SAMPLE_QUESTIONS)


async def test_seed_keeps_existing_questions_and_adds_only_missing_samples(conn: Any) -> None:
    own = await queries.create_question(conn, "Our own question", ["a"])
    first_text, first_choices = SAMPLE_QUESTIONS[0]
    await queries.create_question(conn, first_text, first_choices)

    await seed(conn)

    texts = await _question_texts(conn)
    assert texts[0] == own.question_text
    assert sorted(texts[1:]) == sorted(text for text, _ in SAMPLE_QUESTIONS)


async def test_seeded_questions_are_listed_on_the_polls_index(client: Client, conn: Any) -> None:
    await seed(conn)

    body = await (await client.get("/polls/")).text()

    for text, _ in SAMPLE_QUESTIONS:
        assert f">{escape(text)}</a>" in body
