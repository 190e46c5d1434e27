"""Every SQL statement of the polls app, in SQLAlchemy Core; views call these."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from portal.apps.polls.tables import choice, question
from portal.platform.errors import NotFound, PortalError

__all__ = [
    "Choice",
    "ChoiceNotInQuestion",
    "Question",
    "add_choice",
    "count_questions",
    "create_question",
    "delete_question",
    "get_choice",
    "get_choices",
    "get_question",
    "latest_questions",
    "list_choices",
    "list_questions",
    "update_question",
    "vote",
]


class ChoiceNotInQuestion(PortalError):
    """The choice voted for does not belong to the question."""


@dataclass(frozen=True, slots=True)
class Question:
    id: int
    question_text: str
    pub_date: dt.datetime


@dataclass(frozen=True, slots=True)
class Choice:
    id: int
    question_id: int
    choice_text: str
    votes: int


# The statements every page view or API read runs are built once, with named
# parameters; the engine compiles each once too (portal.platform.statements).
_LATEST = (
    sa.select(question)
    .where(question.c.pub_date <= sa.func.now())
    .order_by(question.c.pub_date.desc(), question.c.id.desc())
    .limit(sa.bindparam("limit"))
)
_QUESTION_BY_ID = sa.select(question).where(question.c.id == sa.bindparam("question_id"))
# LIMIT NULL is no limit in PostgreSQL: one statement serves limit=None too.
_QUESTIONS = sa.select(question).order_by(question.c.id).limit(sa.bindparam("limit"))
_QUESTIONS_AFTER = _QUESTIONS.where(question.c.id > sa.bindparam("after_id"))
_CHOICES_OF = (
    sa.select(choice)
    .where(choice.c.question_id == sa.bindparam("question_id"))
    .order_by(choice.c.id)
)
_VOTE = (
    choice.update()
    .where(
        choice.c.id == sa.bindparam("choice_id"),
        choice.c.question_id == sa.bindparam("question_id"),
    )
    .values(votes=choice.c.votes + 1)
    .returning(*choice.c)
)


def _question(row: Any) -> Question:
    return Question(id=row.id, question_text=row.question_text, pub_date=row.pub_date)


def _choice(row: Any) -> Choice:
    return Choice(
        id=row.id, question_id=row.question_id, choice_text=row.choice_text, votes=row.votes
    )


async def count_questions(conn: Any) -> int:
    """How many questions there are."""
    return int(await conn.scalar(sa.select(sa.func.count()).select_from(question)))


async def latest_questions(conn: Any, limit: int = 10) -> list[Question]:
    """The most recently published questions (none dated in the future), newest first."""
    return [_question(row) for row in await (await conn.execute(_LATEST, limit=limit)).fetchall()]


async def get_question(conn: Any, question_id: int) -> Question:
    """The question with *question_id*; :class:`NotFound` when there is none."""
    row = await (await conn.execute(_QUESTION_BY_ID, question_id=question_id)).first()
    if row is None:
        raise NotFound(f"no question with id {question_id}")
    return _question(row)


async def list_questions(
    conn: Any, *, after_id: int | None = None, limit: int | None = None
) -> list[Question]:
    """Every question by id (published or not), from after *after_id*: a stable keyset page."""
    if limit is not None and limit < 0:
        raise ValueError(f"limit must not be negative, not {limit}")
    if after_id is None:
        rows = await conn.execute(_QUESTIONS, limit=limit)
    else:
        rows = await conn.execute(_QUESTIONS_AFTER, limit=limit, after_id=after_id)
    return [_question(row) for row in await rows.fetchall()]


async def update_question(
    conn: Any,
    question_id: int,
    *,
    question_text: str | None = None,
    pub_date: dt.datetime | None = None,
) -> Question:
    """Change the given fields of a question; :class:`NotFound` when there is none."""
    values: dict[str, Any] = {}
    if question_text is not None:
        values["question_text"] = question_text
    if pub_date is not None:
        values["pub_date"] = pub_date
    if not values:
        return await get_question(conn, question_id)
    query = (
        question.update()
        .where(question.c.id == question_id)
        .values(**values)
        .returning(*question.c)
    )
    row = await (await conn.execute(query)).first()
    if row is None:
        raise NotFound(f"no question with id {question_id}")
    return _question(row)


async def delete_question(conn: Any, question_id: int) -> None:
    """Delete a question and (by the foreign key's cascade) its choices."""
    result = await conn.execute(question.delete().where(question.c.id == question_id))
    if result.rowcount == 0:
        raise NotFound(f"no question with id {question_id}")


async def list_choices(
    conn: Any, question_id: int, *, after_id: int | None = None, limit: int | None = None
) -> list[Choice]:
    """A question's choices by id, from after *after_id*: a stable keyset page."""
    query = sa.select(choice).where(choice.c.question_id == question_id).order_by(choice.c.id)
    if after_id is not None:
        query = query.where(choice.c.id > after_id)
    if limit is not None:
        query = query.limit(limit)
    return [_choice(row) for row in await (await conn.execute(query)).fetchall()]


async def get_choice(conn: Any, question_id: int, choice_id: int) -> Choice:
    """Choice *choice_id* of *question_id*; :class:`NotFound` otherwise."""
    query = sa.select(choice).where(choice.c.id == choice_id, choice.c.question_id == question_id)
    row = await (await conn.execute(query)).first()
    if row is None:
        raise NotFound(f"question {question_id} has no choice {choice_id}")
    return _choice(row)


async def add_choice(conn: Any, question_id: int, choice_text: str) -> Choice:
    """Add a choice to a question; :class:`NotFound` when there is no such question."""
    await get_question(conn, question_id)
    query = (
        choice.insert()
        .values(question_id=question_id, choice_text=choice_text)
        .returning(*choice.c)
    )
    return _choice(await (await conn.execute(query)).first())


async def get_choices(conn: Any, question_id: int) -> list[Choice]:
    """The question's choices in the order they were added."""
    rows = await conn.execute(_CHOICES_OF, question_id=question_id)
    return [_choice(row) for row in await rows.fetchall()]


async def vote(conn: Any, question_id: int, choice_id: int) -> Choice:
    """Count one vote for *choice_id*, atomically; returns the choice with its new count.

    One ``UPDATE ... SET votes = votes + 1``: a read-then-write would lose
    votes when two arrive at once.
    """
    row = await (await conn.execute(_VOTE, choice_id=choice_id, question_id=question_id)).first()
    if row is None:
        await get_question(conn, question_id)  # raises NotFound for a missing question
        raise ChoiceNotInQuestion(f"choice {choice_id} is not a choice of question {question_id}")
    return _choice(row)


async def create_question(
    conn: Any, question_text: str, choices: Sequence[str], pub_date: dt.datetime | None = None
) -> Question:
    """Store a question with its choices in one transaction."""
    async with conn.begin():
        row = await (
            await conn.execute(
                question.insert()
                .values(question_text=question_text, pub_date=pub_date or sa.func.now())
                .returning(*question.c)
            )
        ).first()
        if choices:
            await conn.execute(
                choice.insert().values(
                    [{"question_id": row.id, "choice_text": text} for text in choices]
                )
            )
    return _question(row)
