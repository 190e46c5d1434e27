"""Every SQL statement of the polls app, in SQLAlchemy Core; views call these."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from portal.appkit import (
    Conflict,
    Connection,
    NotFound,
    PortalError,
    contains_values,
    keyset_order,
    where_contains,
)
from portal.apps.polls.tables import choice, question

__all__ = [
    "MAX_CHOICES",
    "Choice",
    "ChoiceNotInQuestion",
    "Question",
    "TooManyChoices",
    "add_choice",
    "count_questions",
    "create_question",
    "delete_question",
    "find_questions",
    "first_choices",
    "get_choice",
    "get_choices",
    "get_question",
    "latest_questions",
    "list_choices",
    "list_questions",
    "update_question",
    "vote",
]


#: The most choices a question may have. Adding one more is refused, and the
#: pages, the live socket and the API's question detail never show more, so
#: none of them grows with the choice table (rows added past it by the admin or
#: psql stay reachable through the API's paged choice list).
MAX_CHOICES = 100


class ChoiceNotInQuestion(PortalError):
    """The choice voted for does not belong to the question."""


class TooManyChoices(Conflict):
    """The question already has :data:`MAX_CHOICES` choices."""


@dataclass(frozen=True, slots=True)
class Question:
    id: int
    question_text: str
    pub_date: dt.datetime
    #: Whether ``pub_date`` has come, by the database's clock. Only staff may
    #: see a question that is not published yet.
    published: bool = True


@dataclass(frozen=True, slots=True)
class Choice:
    id: int
    question_id: int
    choice_text: str
    votes: int


# Published means pub_date has come by the DATABASE's clock: a question
# appears by itself when its time comes, with no restart and no cache, and
# every worker agrees on when that is.
_IS_PUBLISHED = question.c.pub_date <= sa.func.now()
_QUESTION_COLUMNS = (*question.c, _IS_PUBLISHED.label("published"))

# The statements every page view or API read runs are built once, with named
# parameters; the engine compiles each once too (portal.platform.db.statements).
_LATEST = (
    sa.select(*_QUESTION_COLUMNS)
    .where(_IS_PUBLISHED)
    .order_by(question.c.pub_date.desc(), question.c.id.desc())
    .limit(sa.bindparam("limit"))
)
_QUESTION_BY_ID = sa.select(*_QUESTION_COLUMNS).where(question.c.id == sa.bindparam("question_id"))
_PUBLISHED_QUESTION_BY_ID = _QUESTION_BY_ID.where(_IS_PUBLISHED)
# LIMIT NULL is no limit in PostgreSQL: one statement serves limit=None too.
_QUESTIONS = sa.select(*_QUESTION_COLUMNS).order_by(question.c.id).limit(sa.bindparam("limit"))
_QUESTIONS_AFTER = _QUESTIONS.where(question.c.id > sa.bindparam("after_id"))
_PUBLISHED_QUESTIONS = _QUESTIONS.where(_IS_PUBLISHED)
_PUBLISHED_QUESTIONS_AFTER = _QUESTIONS_AFTER.where(_IS_PUBLISHED)
_CHOICES_OF = (
    sa.select(choice)
    .where(choice.c.question_id == sa.bindparam("question_id"))
    .order_by(choice.c.id)
    .limit(sa.bindparam("limit"))
)
_CHOICE = sa.select(choice).where(
    choice.c.id == sa.bindparam("choice_id"),
    choice.c.question_id == sa.bindparam("question_id"),
)
_PUBLISHED_CHOICE = _CHOICE.where(
    sa.exists().where(question.c.id == choice.c.question_id, _IS_PUBLISHED)
)
# The publication test is part of the UPDATE itself: no vote can land on a
# question that is unpublished at the moment the row is written, whatever
# was read before.
_VOTE = (
    choice.update()
    .where(
        choice.c.id == sa.bindparam("choice_id"),
        choice.c.question_id == sa.bindparam("question_id"),
        sa.exists().where(question.c.id == choice.c.question_id, _IS_PUBLISHED),
    )
    .values(votes=choice.c.votes + 1)
    .returning(*choice.c)
)
# Serialises the additions to one question (and only those: votes and the
# foreign-key checks of inserted choices take no conflicting lock), so two at
# once cannot both pass the count below.
_LOCK_QUESTION = (
    sa.select(question.c.id)
    .where(question.c.id == sa.bindparam("question_id"))
    .with_for_update(key_share=True)
)
# Counts no further than the limit, however many rows there are.
_CHOICES_UP_TO_MAX = sa.select(sa.func.count()).select_from(
    sa.select(choice.c.id)
    .where(choice.c.question_id == sa.bindparam("question_id"))
    .limit(MAX_CHOICES)
    .subquery()
)


#: How each ordering of :func:`find_questions` sorts (the id breaks ties).
_SORTS = {"id": question.c.id, "pub_date": question.c.pub_date}
#: The function of the trigram index ``question_text_trigrams_idx`` (migration
#: polls_0003): the distinct three-character pieces of the lower-cased text.
_TEXT_TRIGRAMS = "polls_trigrams"


@functools.cache
def _find(
    ordering: str,
    after: bool,
    published: bool | None,
    since: bool,
    until: bool,
    contains: bool,
    trigrams: bool,
) -> Any:
    """The statement of one shape of :func:`find_questions`, built once (values are bound)."""
    column = _SORTS[ordering.removeprefix("-")]
    descending = ordering.startswith("-")
    query = sa.select(*_QUESTION_COLUMNS).limit(sa.bindparam("limit"))
    if published is not None:
        query = query.where(_IS_PUBLISHED if published else sa.not_(_IS_PUBLISHED))
    if since:
        query = query.where(question.c.pub_date >= sa.bindparam("since", type_=column.type))
    if until:
        query = query.where(question.c.pub_date < sa.bindparam("until", type_=column.type))
    if contains:
        query = where_contains(query, question.c.question_text, _TEXT_TRIGRAMS, indexed=trigrams)
    return keyset_order(query, column, question.c.id, descending=descending, after=after)


def _question(row: Any) -> Question:
    return Question(
        id=row.id,
        question_text=row.question_text,
        pub_date=row.pub_date,
        published=row.published,
    )


def _choice(row: Any) -> Choice:
    return Choice(
        id=row.id, question_id=row.question_id, choice_text=row.choice_text, votes=row.votes
    )


async def count_questions(conn: Connection) -> int:
    """How many questions there are."""
    return int(await conn.scalar(sa.select(sa.func.count()).select_from(question)))


async def latest_questions(conn: Connection, limit: int = 10) -> list[Question]:
    """The most recently published questions (none dated in the future), newest first."""
    return [_question(row) for row in await (await conn.execute(_LATEST, limit=limit)).fetchall()]


async def get_question(
    conn: Connection, question_id: int, *, include_unpublished: bool = False
) -> Question:
    """The question with *question_id*; :class:`NotFound` when there is none.

    A question whose ``pub_date`` is still to come is not there either, unless
    *include_unpublished* (for staff).
    """
    query = _QUESTION_BY_ID if include_unpublished else _PUBLISHED_QUESTION_BY_ID
    row = await (await conn.execute(query, question_id=question_id)).first()
    if row is None:
        raise NotFound(f"no question with id {question_id}")
    return _question(row)


async def list_questions(
    conn: Connection,
    *,
    after_id: int | None = None,
    limit: int | None = None,
    include_unpublished: bool = False,
) -> list[Question]:
    """The published questions by id (every one with *include_unpublished*), from after
    *after_id*: a stable keyset page."""
    if limit is not None and limit < 0:
        raise ValueError(f"limit must not be negative, not {limit}")
    if after_id is None:
        query = _QUESTIONS if include_unpublished else _PUBLISHED_QUESTIONS
        rows = await conn.execute(query, limit=limit)
    else:
        query = _QUESTIONS_AFTER if include_unpublished else _PUBLISHED_QUESTIONS_AFTER
        rows = await conn.execute(query, limit=limit, after_id=after_id)
    return [_question(row) for row in await rows.fetchall()]


async def find_questions(
    conn: Connection,
    *,
    limit: int,
    ordering: str = "id",
    after: tuple[Any, int] | None = None,
    published: bool | None = True,
    pub_date_after: dt.datetime | None = None,
    pub_date_before: dt.datetime | None = None,
    text_contains: str | None = None,
) -> list[Question]:
    """A keyset page of questions in *ordering* (``id``, ``pub_date``; ``-`` descending), filtered.

    *after* is the (sort value, id) of the last question seen. *published*:
    True for the published questions only (what the public sees), False for
    the unpublished ones only, None for both (staff). *pub_date_after* keeps
    ``pub_date >= value``, *pub_date_before* ``pub_date < value``;
    *text_contains* the questions whose text contains it, ignoring case
    (``%``, ``_`` and ``\\`` in it are literal).
    """
    if limit < 0:
        raise ValueError(f"limit must not be negative, not {limit}")
    values: dict[str, Any] = {"limit": limit}
    if after is not None:
        values["after_value"], values["after_id"] = after
    if pub_date_after is not None:
        values["since"] = pub_date_after
    if pub_date_before is not None:
        values["until"] = pub_date_before
    if text_contains is not None:
        values |= contains_values(text_contains)
    statement = _find(
        ordering,
        after is not None,
        published,
        pub_date_after is not None,
        pub_date_before is not None,
        text_contains is not None,
        "term" in values,
    )
    return [_question(row) for row in await (await conn.execute(statement, **values)).fetchall()]


async def update_question(
    conn: Connection,
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
        return await get_question(conn, question_id, include_unpublished=True)
    query = (
        question.update()
        .where(question.c.id == question_id)
        .values(**values)
        .returning(*_QUESTION_COLUMNS)
    )
    row = await (await conn.execute(query)).first()
    if row is None:
        raise NotFound(f"no question with id {question_id}")
    return _question(row)


async def delete_question(conn: Connection, question_id: int) -> None:
    """Delete a question and (by the foreign key's cascade) its choices."""
    result = await conn.execute(question.delete().where(question.c.id == question_id))
    if result.rowcount == 0:
        raise NotFound(f"no question with id {question_id}")


async def list_choices(
    conn: Connection, question_id: int, *, after_id: int | None = None, limit: int | None = None
) -> list[Choice]:
    """A question's choices by id, from after *after_id*: a stable keyset page."""
    query = sa.select(choice).where(choice.c.question_id == question_id).order_by(choice.c.id)
    if after_id is not None:
        query = query.where(choice.c.id > after_id)
    if limit is not None:
        query = query.limit(limit)
    return [_choice(row) for row in await (await conn.execute(query)).fetchall()]


async def get_choice(
    conn: Connection, question_id: int, choice_id: int, *, include_unpublished: bool = False
) -> Choice:
    """Choice *choice_id* of *question_id*; :class:`NotFound` otherwise, and also when
    the question is not published yet, unless *include_unpublished* (for staff)."""
    query = _CHOICE if include_unpublished else _PUBLISHED_CHOICE
    row = await (await conn.execute(query, choice_id=choice_id, question_id=question_id)).first()
    if row is None:
        raise NotFound(f"question {question_id} has no choice {choice_id}")
    return _choice(row)


async def add_choice(conn: Connection, question_id: int, choice_text: str) -> Choice:
    """Add a choice to a question, published or not.

    :class:`NotFound` when there is no such question; :class:`TooManyChoices`
    when it already has :data:`MAX_CHOICES`.
    """
    async with conn.begin():
        if await (await conn.execute(_LOCK_QUESTION, question_id=question_id)).first() is None:
            raise NotFound(f"no question with id {question_id}")
        if await conn.scalar(_CHOICES_UP_TO_MAX, question_id=question_id) >= MAX_CHOICES:
            raise TooManyChoices(
                f"question {question_id} already has {MAX_CHOICES} choices, the most it may have"
            )
        query = (
            choice.insert()
            .values(question_id=question_id, choice_text=choice_text)
            .returning(*choice.c)
        )
        return _choice(await (await conn.execute(query)).first())


async def get_choices(
    conn: Connection, question_id: int, *, limit: int | None = None
) -> list[Choice]:
    """The question's choices in the order they were added: at most *limit* of them.

    Without a limit this returns every row, so it is for scripts and tests;
    pages use :func:`first_choices`.
    """
    rows = await conn.execute(_CHOICES_OF, question_id=question_id, limit=limit)
    return [_choice(row) for row in await rows.fetchall()]


async def first_choices(conn: Connection, question_id: int) -> tuple[list[Choice], bool]:
    """The question's first :data:`MAX_CHOICES` choices, and whether it has more.

    What the pages show: however many rows a question has (the admin or psql
    may add more than the API allows), a page stays the same size.
    """
    choices = await get_choices(conn, question_id, limit=MAX_CHOICES + 1)
    return choices[:MAX_CHOICES], len(choices) > MAX_CHOICES


async def vote(conn: Connection, question_id: int, choice_id: int) -> Choice:
    """Count one vote for *choice_id*, atomically; returns the choice with its new count.

    One ``UPDATE ... SET votes = votes + 1``: a read-then-write would lose
    votes when two arrive at once. The same statement checks that the
    question is published, so nothing is counted for one that is not, and
    that is :class:`NotFound` for everyone, staff included: staff may *see* a
    question before its time, but a vote is a public act, and counts
    gathered before publication would skew the results the public sees.
    """
    row = await (await conn.execute(_VOTE, choice_id=choice_id, question_id=question_id)).first()
    if row is None:
        # Missing or unpublished: NotFound. Otherwise the choice is not this question's.
        await get_question(conn, question_id)
        raise ChoiceNotInQuestion(f"choice {choice_id} is not a choice of question {question_id}")
    return _choice(row)


async def create_question(
    conn: Connection,
    question_text: str,
    choices: Sequence[str],
    pub_date: dt.datetime | None = None,
) -> Question:
    """Store a question with its choices in one transaction.

    :class:`TooManyChoices` for more than :data:`MAX_CHOICES` choices.
    """
    if len(choices) > MAX_CHOICES:
        raise TooManyChoices(f"a question may have at most {MAX_CHOICES} choices")
    async with conn.begin():
        row = await (
            await conn.execute(
                question.insert()
                .values(question_text=question_text, pub_date=pub_date or sa.func.now())
                .returning(*_QUESTION_COLUMNS)
            )
        ).first()
        if choices:
            await conn.execute(
                choice.insert().values(
                    [{"question_id": row.id, "choice_text": text} for text in choices]
                )
            )
    return _question(row)
