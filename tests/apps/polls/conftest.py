"""Polls test helpers: questions dated relative to the database's clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa

from portal.apps.polls.tables import choice, question

__all__ = [
    "Poll",
    "count_choices",
    "create_crowded_question",
    "create_question",
    "one_second_ahead",
    "still_to_come",
    "votes_of",
]

T = TypeVar("T")

#: Fresh questions tried before a "one second ahead" check gives up on a slow machine.
_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Poll:
    """A question's id and its choices' ids, as arranged."""

    id: int
    choice_ids: list[int]


async def create_question(
    conn: Any,
    question_text: str,
    *,
    days: float = 0,
    seconds: float = 0,
    choices: Sequence[str] = ("Yes", "No"),
) -> Poll:
    """A question published the given offset from now (negative: in the past), as the
    Django tutorial's helper, but by the DATABASE's clock, the one the site reads."""
    offset = dt.timedelta(days=days, seconds=seconds)
    question_id = await conn.scalar(
        question.insert()
        .values(question_text=question_text, pub_date=sa.func.now() + offset)
        .returning(question.c.id)
    )
    choice_ids = []
    for text in choices:
        choice_ids.append(
            await conn.scalar(
                choice.insert()
                .values(question_id=question_id, choice_text=text)
                .returning(choice.c.id)
            )
        )
    return Poll(question_id, choice_ids)


async def create_crowded_question(conn: Any, count: int) -> Poll:
    """A published question with *count* choices, inserted by one statement.

    Each inserted row notifies live pages: arrange this before the site
    starts, and the notifications reach no listener.
    """
    poll = await create_question(conn, "So many?", days=-1, choices=())
    await conn.execute(
        sa.text(
            "INSERT INTO choice (question_id, choice_text) "
            "SELECT :question_id, 'Choice ' || n FROM generate_series(1, :count) AS n"
        ),
        question_id=poll.id,
        count=count,
    )
    ids = await conn.execute(
        sa.select(choice.c.id).where(choice.c.question_id == poll.id).order_by(choice.c.id)
    )
    return Poll(poll.id, [row.id async for row in ids])


async def count_choices(conn: Any, question_id: int) -> int:
    """How many choices the question has."""
    query = (
        sa.select(sa.func.count()).select_from(choice).where(choice.c.question_id == question_id)
    )
    return int(await conn.scalar(query))


async def still_to_come(conn: Any, question_id: int) -> bool:
    """Whether the question's ``pub_date`` is still ahead of the database's clock.

    A test of "one second ahead" checks this after its request: if the clock
    already passed it, the machine was too slow for the check to mean anything.
    """
    return bool(
        await conn.scalar(
            sa.select(question.c.pub_date > sa.func.now()).where(question.c.id == question_id)
        )
    )


async def one_second_ahead(
    conn: Any, ask: Callable[[Poll], Awaitable[T]], *, choices: Sequence[str] = ("Yes", "No")
) -> tuple[Poll, T]:
    """The answer to *ask* about a question published one second from now.

    The answer counts only if the question was still to come when it arrived
    (then it was when the server looked); otherwise, on a machine too slow to
    answer within the second, it is asked again about a fresh question.
    """
    for attempt in range(_ATTEMPTS):
        poll = await create_question(conn, f"Soon {attempt}?", seconds=1, choices=choices)
        answer = await ask(poll)
        if await still_to_come(conn, poll.id):
            return poll, answer
        await conn.execute(question.delete().where(question.c.id == poll.id))
    pytest.fail(f"no answer came within one second, {_ATTEMPTS} times")


async def votes_of(conn: Any, question_id: int) -> list[int]:
    """The vote counts of a question's choices, in id order."""
    rows = await conn.execute(
        sa.select(choice.c.votes).where(choice.c.question_id == question_id).order_by(choice.c.id)
    )
    return [row.votes async for row in rows]
