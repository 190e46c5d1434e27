"""The polls data layer against the real database: every statement in queries.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from portal.apps.polls import queries
from portal.apps.polls.tables import choice, question
from portal.platform.exceptions import NotFound


def _ago(**delta: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(**delta)


async def _votes(conn: Any, choice_id: int) -> int:
    return int(await conn.scalar(sa.select(choice.c.votes).where(choice.c.id == choice_id)))


async def test_create_question_stores_the_question_with_its_choices(conn: Any) -> None:
    created = await queries.create_question(conn, "What's new?", ["Not much", "The sky"])

    stored = await queries.get_question(conn, created.id)
    choices = await queries.get_choices(conn, created.id)
    assert stored == created
    assert stored.question_text == "What's new?"
    assert [(c.question_id, c.choice_text, c.votes) for c in choices] == [
        (created.id, "Not much", 0),
        (created.id, "The sky", 0),
    ]


async def test_create_question_defaults_pub_date_to_now(conn: Any) -> None:
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)

    created = await queries.create_question(conn, "When?", ["Now"])

    assert before <= created.pub_date <= dt.datetime.now(dt.UTC)


async def test_latest_questions_lists_newest_first(conn: Any) -> None:
    old = await queries.create_question(conn, "Old", ["a"], pub_date=_ago(days=2))
    new = await queries.create_question(conn, "New", ["a"], pub_date=_ago(hours=1))
    middle = await queries.create_question(conn, "Middle", ["a"], pub_date=_ago(days=1))

    latest = await queries.latest_questions(conn)

    assert [q.id for q in latest] == [new.id, middle.id, old.id]


async def test_latest_questions_excludes_questions_published_in_the_future(conn: Any) -> None:
    published = await queries.create_question(conn, "Now", ["a"], pub_date=_ago(minutes=1))
    await queries.create_question(conn, "Tomorrow", ["a"], pub_date=_ago(days=-1))

    latest = await queries.latest_questions(conn)

    assert [q.id for q in latest] == [published.id]


async def test_latest_questions_returns_at_most_limit_questions(conn: Any) -> None:
    for day in range(4):
        await queries.create_question(conn, f"Day {day}", ["a"], pub_date=_ago(days=day + 1))

    latest = await queries.latest_questions(conn, limit=3)

    assert [q.question_text for q in latest] == ["Day 0", "Day 1", "Day 2"]


async def test_get_question_raises_not_found_for_a_missing_id(conn: Any) -> None:
    with pytest.raises(NotFound, match="no question with id 4242"):
        await queries.get_question(conn, 4242)


async def test_get_choices_keeps_the_order_they_were_added_in(conn: Any) -> None:
    created = await queries.create_question(conn, "Order?", ["zebra", "apple", "mango"])

    choices = await queries.get_choices(conn, created.id)

    assert [c.choice_text for c in choices] == ["zebra", "apple", "mango"]


async def test_vote_increments_the_count_and_returns_the_new_count(conn: Any) -> None:
    created = await queries.create_question(conn, "Tabs?", ["Tabs", "Spaces"])
    tabs, spaces = await queries.get_choices(conn, created.id)

    first = await queries.vote(conn, created.id, tabs.id)
    second = await queries.vote(conn, created.id, tabs.id)

    assert (first.id, first.votes) == (tabs.id, 1)
    assert second.votes == 2
    assert await _votes(conn, tabs.id) == 2
    assert await _votes(conn, spaces.id) == 0


async def test_vote_for_a_choice_of_another_question_raises_and_counts_nothing(
    conn: Any,
) -> None:
    asked = await queries.create_question(conn, "Asked", ["yes"])
    other = await queries.create_question(conn, "Other", ["no"])
    (yes,) = await queries.get_choices(conn, asked.id)
    (no,) = await queries.get_choices(conn, other.id)

    with pytest.raises(queries.ChoiceNotInQuestion):
        await queries.vote(conn, asked.id, no.id)

    assert await _votes(conn, yes.id) == 0
    assert await _votes(conn, no.id) == 0


async def test_vote_on_a_missing_question_raises_not_found(conn: Any) -> None:
    created = await queries.create_question(conn, "Exists", ["a"])
    (only,) = await queries.get_choices(conn, created.id)

    with pytest.raises(NotFound):
        await queries.vote(conn, created.id + 1000, only.id)

    assert await _votes(conn, only.id) == 0


async def test_ids_beyond_the_integer_column_are_not_found(conn: Any) -> None:
    # A URL may carry any number of digits; the database must not see them.
    with pytest.raises(NotFound):
        await queries.get_question(conn, 2**31)


async def test_vote_for_a_choice_id_beyond_the_integer_column_is_not_in_question(
    conn: Any,
) -> None:
    created = await queries.create_question(conn, "Big?", ["a"])

    with pytest.raises(queries.ChoiceNotInQuestion):
        await queries.vote(conn, created.id, 10**20)


async def test_count_questions_counts_every_question(conn: Any) -> None:
    await queries.create_question(conn, "One", ["a"])
    await queries.create_question(conn, "Two", ["a"], pub_date=_ago(days=-3))

    assert await queries.count_questions(conn) == 2


async def test_deleting_a_question_deletes_its_choices(conn: Any) -> None:
    doomed = await queries.create_question(conn, "Doomed", ["a", "b"])
    kept = await queries.create_question(conn, "Kept", ["c"])

    await conn.execute(question.delete().where(question.c.id == doomed.id))

    assert await queries.get_choices(conn, doomed.id) == []
    remaining = await conn.scalar(sa.select(sa.func.count()).select_from(choice))
    assert remaining == 1
    assert [c.choice_text for c in await queries.get_choices(conn, kept.id)] == ["c"]


# Publication: by the database's clock, and only staff see what is to come


async def test_get_question_of_a_future_question_raises_not_found(conn: Any) -> None:
    future = await queries.create_question(conn, "Later", ["a"], pub_date=_ago(days=-1))

    with pytest.raises(NotFound):
        await queries.get_question(conn, future.id)


async def test_get_question_including_unpublished_says_it_is_not_published(conn: Any) -> None:
    future = await queries.create_question(conn, "Later", ["a"], pub_date=_ago(days=-1))

    found = await queries.get_question(conn, future.id, include_unpublished=True)

    assert (found.id, found.published) == (future.id, False)


async def test_list_questions_leaves_out_future_ones_unless_asked(conn: Any) -> None:
    past = await queries.create_question(conn, "Past", ["a"], pub_date=_ago(days=1))
    future = await queries.create_question(conn, "Future", ["a"], pub_date=_ago(days=-1))

    public = await queries.list_questions(conn)
    every = await queries.list_questions(conn, include_unpublished=True)

    assert [q.id for q in public] == [past.id]
    assert [q.id for q in every] == [past.id, future.id]


async def test_get_choice_of_a_future_question_raises_not_found(conn: Any) -> None:
    future = await queries.create_question(conn, "Later", ["a"], pub_date=_ago(days=-1))
    (only,) = await queries.get_choices(conn, future.id)

    with pytest.raises(NotFound):
        await queries.get_choice(conn, future.id, only.id)
    assert (await queries.get_choice(conn, future.id, only.id, include_unpublished=True)) == only


async def test_vote_on_a_future_question_raises_not_found_and_counts_nothing(conn: Any) -> None:
    future = await queries.create_question(conn, "Later", ["a"], pub_date=_ago(days=-1))
    (only,) = await queries.get_choices(conn, future.id)

    with pytest.raises(NotFound):
        await queries.vote(conn, future.id, only.id)

    assert await _votes(conn, only.id) == 0


# At most MAX_CHOICES choices


async def test_add_choice_beyond_the_most_raises_and_adds_nothing(conn: Any) -> None:
    full = await queries.create_question(conn, "Full", ["c"] * queries.MAX_CHOICES)

    with pytest.raises(queries.TooManyChoices):
        await queries.add_choice(conn, full.id, "one more")

    assert len(await queries.get_choices(conn, full.id)) == queries.MAX_CHOICES


async def test_create_question_with_too_many_choices_raises_and_stores_nothing(
    conn: Any,
) -> None:
    with pytest.raises(queries.TooManyChoices):
        await queries.create_question(conn, "Crowded", ["c"] * (queries.MAX_CHOICES + 1))

    assert await queries.count_questions(conn) == 0


async def test_first_choices_stops_at_the_most_and_says_there_are_more(conn: Any) -> None:
    full = await queries.create_question(
        conn, "Full", [f"c{n}" for n in range(queries.MAX_CHOICES)]
    )
    await conn.execute(choice.insert().values(question_id=full.id, choice_text="beyond"))

    shown, more = await queries.first_choices(conn, full.id)

    assert len(shown) == queries.MAX_CHOICES
    assert "beyond" not in [c.choice_text for c in shown]
    assert more
