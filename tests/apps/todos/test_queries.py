"""The todos data layer against the real database: every statement in queries.py."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from portal.apps.todos import queries
from portal.apps.todos.queries import NAME_MAX_LENGTH, InvalidTodo, Todo
from portal.apps.todos.tables import todo
from portal.platform.exceptions import Conflict, NotFound


async def _rows(conn: Any) -> list[tuple[int, str, bool]]:
    rows = await conn.execute(sa.select(todo).order_by(todo.c.id))
    return [(row.id, row.name, row.finished) async for row in rows]


async def _make(conn: Any, *names: str) -> list[Todo]:
    return [await queries.create_todo(conn, name) for name in names]


# create_todo


async def test_create_todo_stores_it_not_finished_by_default(conn: Any) -> None:
    created = await queries.create_todo(conn, "Buy milk")

    assert created == Todo(id=created.id, name="Buy milk", finished=False)
    assert await _rows(conn) == [(created.id, "Buy milk", False)]


async def test_create_todo_can_store_it_finished(conn: Any) -> None:
    created = await queries.create_todo(conn, "Done already", finished=True)

    assert created.finished is True
    assert await queries.get_todo(conn, created.id) == created


async def test_create_todo_strips_surrounding_whitespace(conn: Any) -> None:
    created = await queries.create_todo(conn, "  \tWater plants \n")

    assert created.name == "Water plants"
    assert await _rows(conn) == [(created.id, "Water plants", False)]


async def test_create_todo_keeps_inner_whitespace_and_unicode(conn: Any) -> None:
    created = await queries.create_todo(conn, "Café  ☕ at  noon")

    assert (await queries.get_todo(conn, created.id)).name == "Café  ☕ at  noon"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "must not be empty"),
        ("   ", "must not be blank"),
        ("\t\n ", "must not be blank"),
        ("x" * (NAME_MAX_LENGTH + 1), f"at most {NAME_MAX_LENGTH} characters"),
        ("bad\x00name", "must not contain NUL"),
        ("lone \ud800 surrogate", "valid Unicode"),
    ],
)
async def test_create_todo_refuses_an_invalid_name_and_stores_nothing(
    conn: Any, name: str, reason: str
) -> None:
    with pytest.raises(InvalidTodo, match=reason):
        await queries.create_todo(conn, name)

    assert await _rows(conn) == []


async def test_create_todo_accepts_a_name_of_exactly_the_maximum_length(conn: Any) -> None:
    name = "é" * NAME_MAX_LENGTH

    created = await queries.create_todo(conn, name)

    assert (await queries.get_todo(conn, created.id)).name == name


async def test_create_todo_measures_the_length_after_stripping(conn: Any) -> None:
    name = "x" * NAME_MAX_LENGTH

    created = await queries.create_todo(conn, f"  {name}  ")

    assert created.name == name


async def test_create_todo_raises_conflict_for_a_duplicate_name(conn: Any) -> None:
    first = await queries.create_todo(conn, "Only once")

    with pytest.raises(Conflict, match="Only once"):
        await queries.create_todo(conn, "Only once", finished=True)

    assert await _rows(conn) == [(first.id, "Only once", False)]


async def test_create_todo_compares_names_after_stripping(conn: Any) -> None:
    await queries.create_todo(conn, "Same")

    with pytest.raises(Conflict):
        await queries.create_todo(conn, "  Same ")


async def test_create_todo_treats_names_differing_in_case_as_different(conn: Any) -> None:
    lower, upper = await _make(conn, "same", "SAME")

    assert lower.id != upper.id


async def test_a_duplicate_inside_a_transaction_leaves_the_transaction_usable(conn: Any) -> None:
    async with conn.begin():
        await queries.create_todo(conn, "Twice")
        with pytest.raises(Conflict):
            await queries.create_todo(conn, "Twice")
        kept = await queries.create_todo(conn, "After the conflict")

    assert [name for _, name, _ in await _rows(conn)] == ["Twice", kept.name]


# get_todo and count_todos


async def test_get_todo_returns_the_stored_todo(conn: Any) -> None:
    _, second = await _make(conn, "One", "Two")

    assert await queries.get_todo(conn, second.id) == second


async def test_get_todo_raises_not_found_for_a_missing_id(conn: Any) -> None:
    with pytest.raises(NotFound, match="no todo with id 4242"):
        await queries.get_todo(conn, 4242)


async def test_ids_beyond_the_integer_column_are_not_found(conn: Any) -> None:
    # A URL may carry any number of digits; the database must not choke on them.
    with pytest.raises(NotFound):
        await queries.get_todo(conn, 2**31)
    with pytest.raises(NotFound):
        await queries.toggle_finished(conn, 10**20)


async def test_count_todos_counts_every_todo(conn: Any) -> None:
    assert await queries.count_todos(conn) == 0

    await _make(conn, "a", "b", "c")

    assert await queries.count_todos(conn) == 3


# list_todos


async def test_list_todos_is_empty_without_todos(conn: Any) -> None:
    assert await queries.list_todos(conn) == []


async def test_list_todos_orders_by_id_ascending(conn: Any) -> None:
    created = await _make(conn, "zebra", "apple", "mango")

    assert await queries.list_todos(conn) == created


async def test_list_todos_returns_at_most_limit_todos(conn: Any) -> None:
    created = await _make(conn, "a", "b", "c")

    assert await queries.list_todos(conn, limit=2) == created[:2]
    assert await queries.list_todos(conn, limit=0) == []


async def test_list_todos_after_id_starts_after_that_id(conn: Any) -> None:
    created = await _make(conn, "a", "b", "c", "d")

    assert await queries.list_todos(conn, after_id=created[1].id) == created[2:]
    assert await queries.list_todos(conn, after_id=created[-1].id) == []


async def test_list_todos_keyset_pages_walk_every_todo_once(conn: Any) -> None:
    created = await _make(conn, *(f"todo {n}" for n in range(7)))
    pages: list[list[Todo]] = []
    after: int | None = None

    while page := await queries.list_todos(conn, after_id=after, limit=3):
        pages.append(page)
        after = page[-1].id

    assert [len(page) for page in pages] == [3, 3, 1]
    assert [t for page in pages for t in page] == created


async def test_list_todos_next_page_is_stable_under_inserts_and_deletes(conn: Any) -> None:
    created = await _make(conn, "a", "b", "c", "d")
    first_page = await queries.list_todos(conn, limit=2)

    await queries.delete_todo(conn, created[0].id)
    late = await queries.create_todo(conn, "inserted meanwhile")
    second_page = await queries.list_todos(conn, after_id=first_page[-1].id, limit=2)
    third_page = await queries.list_todos(conn, after_id=second_page[-1].id, limit=2)

    assert first_page == created[:2]
    assert second_page == created[2:]
    assert third_page == [late]


async def test_list_todos_refuses_a_negative_limit(conn: Any) -> None:
    with pytest.raises(ValueError, match="limit must not be negative"):
        await queries.list_todos(conn, limit=-1)


# update_todo (finished), toggle_finished, delete_todo


async def test_update_finished_sets_the_flag_either_way_and_returns_the_todo(conn: Any) -> None:
    (created,) = await _make(conn, "Flag me")

    finished = await queries.update_todo(conn, created.id, finished=True)
    again = await queries.update_todo(conn, created.id, finished=True)
    reopened = await queries.update_todo(conn, created.id, finished=False)

    assert finished == Todo(id=created.id, name="Flag me", finished=True)
    assert again.finished is True
    assert reopened.finished is False
    assert await _rows(conn) == [(created.id, "Flag me", False)]


async def test_update_finished_changes_only_that_todo(conn: Any) -> None:
    target, other = await _make(conn, "Target", "Other")

    await queries.update_todo(conn, target.id, finished=True)

    assert (await queries.get_todo(conn, other.id)).finished is False


async def test_update_finished_raises_not_found_for_a_missing_id(conn: Any) -> None:
    with pytest.raises(NotFound):
        await queries.update_todo(conn, 4242, finished=True)


async def test_toggle_finished_flips_the_flag_each_time(conn: Any) -> None:
    (created,) = await _make(conn, "Flip")

    first = await queries.toggle_finished(conn, created.id)
    second = await queries.toggle_finished(conn, created.id)

    assert first == Todo(id=created.id, name="Flip", finished=True)
    assert second.finished is False
    assert await _rows(conn) == [(created.id, "Flip", False)]


async def test_toggle_finished_changes_only_that_todo(conn: Any) -> None:
    target, other = await _make(conn, "Target", "Other")

    await queries.toggle_finished(conn, target.id)

    assert (await queries.get_todo(conn, other.id)).finished is False


async def test_toggle_finished_raises_not_found_for_a_missing_id(conn: Any) -> None:
    with pytest.raises(NotFound, match="no todo with id 4242"):
        await queries.toggle_finished(conn, 4242)


async def test_delete_todo_removes_only_that_todo(conn: Any) -> None:
    doomed, kept = await _make(conn, "Doomed", "Kept")

    await queries.delete_todo(conn, doomed.id)

    assert await queries.list_todos(conn) == [kept]


async def test_delete_todo_raises_not_found_for_a_missing_id(conn: Any) -> None:
    (created,) = await _make(conn, "Stays")

    with pytest.raises(NotFound, match="no todo with id 4242"):
        await queries.delete_todo(conn, 4242)

    assert await queries.list_todos(conn) == [created]


async def test_delete_todo_twice_raises_not_found_the_second_time(conn: Any) -> None:
    (created,) = await _make(conn, "Once")
    await queries.delete_todo(conn, created.id)

    with pytest.raises(NotFound):
        await queries.delete_todo(conn, created.id)


async def test_a_deleted_name_can_be_used_again(conn: Any) -> None:
    (created,) = await _make(conn, "Reuse")
    await queries.delete_todo(conn, created.id)

    again = await queries.create_todo(conn, "Reuse")

    assert again.id != created.id


# update_todo


async def test_update_todo_renames_and_keeps_finished(conn: Any) -> None:
    created = await queries.create_todo(conn, "Old", finished=True)

    updated = await queries.update_todo(conn, created.id, name="  New  ")

    assert updated == Todo(id=created.id, name="New", finished=True)
    assert await _rows(conn) == [(created.id, "New", True)]


async def test_update_todo_changes_both_fields_at_once(conn: Any) -> None:
    target, other = await _make(conn, "Target", "Other")

    updated = await queries.update_todo(conn, target.id, name="Renamed", finished=True)

    assert updated == Todo(id=target.id, name="Renamed", finished=True)
    assert await queries.get_todo(conn, other.id) == other


async def test_update_todo_without_changes_returns_the_todo(conn: Any) -> None:
    (created,) = await _make(conn, "Same")

    assert await queries.update_todo(conn, created.id) == created


async def test_update_todo_refuses_a_blank_name_and_changes_nothing(conn: Any) -> None:
    (created,) = await _make(conn, "Kept")

    with pytest.raises(InvalidTodo, match="must not be blank") as raised:
        await queries.update_todo(conn, created.id, name="   ", finished=True)

    assert raised.value.field == "name"
    assert await queries.get_todo(conn, created.id) == created


async def test_update_todo_to_a_taken_name_is_a_conflict_naming_name(conn: Any) -> None:
    _, mine = await _make(conn, "Taken", "Mine")

    with pytest.raises(Conflict, match="“Taken” already exists") as raised:
        await queries.update_todo(conn, mine.id, name="Taken", finished=True)

    assert raised.value.field == "name"
    assert await queries.get_todo(conn, mine.id) == mine


async def test_update_todo_raises_not_found_for_a_missing_id(conn: Any) -> None:
    with pytest.raises(NotFound, match="no todo with id 4242"):
        await queries.update_todo(conn, 4242, name="Ghost")


# summarise, latest_id, page_start_for: bounded work whatever the table holds


async def test_summarise_counts_todos_and_finished_under_the_cap(conn: Any) -> None:
    await _make(conn, "a", "b", "c")
    await queries.update_todo(conn, (await queries.list_todos(conn))[0].id, finished=True)

    assert await queries.summarise(conn, cap=3) == queries.Summary(3, 1, capped=False)


async def test_summarise_stops_counting_past_the_cap(conn: Any) -> None:
    await _make(conn, "a", "b", "c", "d")

    assert await queries.summarise(conn, cap=3) == queries.Summary(3, 0, capped=True)


async def test_summarise_without_todos_is_zero(conn: Any) -> None:
    assert await queries.summarise(conn) == queries.Summary(0, 0, capped=False)


async def test_latest_id_is_the_newest_todos_id_or_none(conn: Any) -> None:
    assert await queries.latest_id(conn) is None

    _, newest = await _make(conn, "old", "new")

    assert await queries.latest_id(conn) == newest.id


async def test_page_start_for_ends_the_page_with_the_todo(conn: Any) -> None:
    made = await _make(conn, *"abcdef")

    after = await queries.page_start_for(conn, made[4].id, size=3)

    assert after == made[1].id
    page = await queries.list_todos(conn, after_id=after, limit=3)
    assert page == made[2:5]


async def test_page_start_for_is_none_when_the_first_page_holds_the_todo(conn: Any) -> None:
    made = await _make(conn, *"abcdef")

    assert await queries.page_start_for(conn, made[2].id, size=3) is None
    assert await queries.page_start_for(conn, made[1].id, size=3) is None


async def test_page_start_for_refuses_an_empty_page(conn: Any) -> None:
    with pytest.raises(ValueError, match="size must be positive"):
        await queries.page_start_for(conn, 1, size=0)
