"""List pages: pagination, sorting, search, filters, links that keep the query, bulk actions."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import sqlalchemy as sa
from yarl import URL

from portal.apps.polls.queries import create_question, get_choices
from portal.apps.polls.tables import choice, question
from portal.apps.todos.queries import create_todo, list_todos
from portal.apps.todos.tables import todo
from portal.platform.admin.queries import PAGE_SIZE
from portal.platform.admin.tables import admin_log
from portal.platform.auth.tables import api_tokens
from portal.platform.auth.tokens import create_token
from portal.platform.auth.users import User
from portal.testing import Client
from tests.platform.admin.conftest import post

_ROW_ID = re.compile(r'<tr id="row-(\d+)">')


def row_ids(body: str) -> list[int]:
    """The ids of the rows a list page shows, in order."""
    return [int(found) for found in _ROW_ID.findall(body)]


def hrefs(body: str) -> list[URL]:
    return [URL(found.replace("&amp;", "&")) for found in re.findall(r'href="([^"]*)"', body)]


async def add_todos(conn: Any, names: list[str], finished: bool = False) -> list[int]:
    query = todo.insert().values([{"name": n, "finished": finished} for n in names])
    await conn.execute(query.returning(todo.c.id))
    return [t.id for t in await list_todos(conn) if t.name in names]


async def page(staff: Client, path: str) -> str:
    response = await staff.get(path)
    assert response.status == 200
    return await response.text()


# Pagination


async def test_a_list_shows_fifty_rows_a_page_with_the_total(staff: Client, conn: Any) -> None:
    await add_todos(conn, [f"todo {n:03}" for n in range(120)])

    body = await page(staff, "/admin/todos/todo/")

    assert len(row_ids(body)) == PAGE_SIZE == 50
    assert "120 todos." in body
    assert "Page 1 of 3" in body


async def test_the_next_page_continues_where_the_first_stopped(staff: Client, conn: Any) -> None:
    await add_todos(conn, [f"todo {n:03}" for n in range(120)])

    first = row_ids(await page(staff, "/admin/todos/todo/"))
    second = row_ids(await page(staff, "/admin/todos/todo/?p=2"))
    third = row_ids(await page(staff, "/admin/todos/todo/?p=3"))

    assert len(third) == 20
    assert sorted(first + second + third) == sorted({*first, *second, *third})
    assert first[-1] < second[0]


async def test_a_page_past_the_end_shows_the_last_page(staff: Client, conn: Any) -> None:
    await add_todos(conn, [f"todo {n:03}" for n in range(60)])

    body = await page(staff, "/admin/todos/todo/?p=99")

    assert len(row_ids(body)) == 10
    assert "Page 2 of 2" in body


async def test_a_nonsense_page_number_shows_the_first_page(staff: Client, conn: Any) -> None:
    await add_todos(conn, [f"todo {n:03}" for n in range(60)])

    body = await page(staff, "/admin/todos/todo/?p=-3x")

    assert "Page 1 of 2" in body


# Sorting


async def test_sorting_by_a_column_ascending(staff: Client, conn: Any) -> None:
    ids = await add_todos(conn, ["banana", "apple", "cherry"])

    body = await page(staff, "/admin/todos/todo/?o=name")

    assert row_ids(body) == [ids[1], ids[0], ids[2]]
    assert 'aria-sort="ascending"' in body


async def test_sorting_by_a_column_descending(staff: Client, conn: Any) -> None:
    ids = await add_todos(conn, ["banana", "apple", "cherry"])

    body = await page(staff, "/admin/todos/todo/?o=-name")

    assert row_ids(body) == [ids[2], ids[0], ids[1]]
    assert 'aria-sort="descending"' in body


async def test_ties_are_broken_by_id_so_the_order_is_stable(staff: Client, conn: Any) -> None:
    done = await add_todos(conn, ["a", "b", "c"], finished=True)
    open_ = await add_todos(conn, ["d", "e"])

    body = await page(staff, "/admin/todos/todo/?o=-finished")

    assert row_ids(body) == sorted(done, reverse=True) + sorted(open_, reverse=True)


async def test_a_column_header_links_to_the_other_direction(staff: Client, conn: Any) -> None:
    await add_todos(conn, ["a"])

    body = await page(staff, "/admin/todos/todo/?o=name&q=a")

    link = re.search(r'<a href="([^"]*)" id="sort-name">', body)
    assert link
    assert URL(link.group(1).replace("&amp;", "&")).query == {"o": "-name", "q": "a"}


async def test_sorting_by_an_unlisted_column_is_ignored(staff: Client, conn: Any) -> None:
    ids = await add_todos(conn, ["b", "a"])

    body = await page(staff, "/admin/todos/todo/?o=password_hash")

    assert row_ids(body) == sorted(ids)


# Search


async def test_search_finds_rows_containing_the_text_in_any_case(staff: Client, conn: Any) -> None:
    ids = await add_todos(conn, ["Buy MILK", "buy bread", "oat milk latte"])

    body = await page(staff, "/admin/todos/todo/?q=milk")

    assert sorted(row_ids(body)) == sorted([ids[0], ids[2]])
    assert "2 todos found, of 3 in all." in body


async def test_search_treats_percent_and_underscore_as_plain_characters(
    staff: Client, conn: Any
) -> None:
    ids = await add_todos(conn, ["100% done", "1000 done", "snake_case", "snakeXcase"])

    percent = row_ids(await page(staff, "/admin/todos/todo/?q=100%25"))
    underscore = row_ids(await page(staff, "/admin/todos/todo/?q=e_c"))

    assert percent == [ids[0]]
    assert underscore == [ids[2]]


async def test_search_with_a_backslash_is_a_plain_character_too(staff: Client, conn: Any) -> None:
    ids = await add_todos(conn, ["C:\\temp", "C:temp"])

    assert row_ids(await page(staff, "/admin/todos/todo/?q=%5C")) == [ids[0]]


async def test_every_word_of_the_search_must_match(staff: Client, conn: Any) -> None:
    ids = await add_todos(conn, ["buy oat milk", "buy bread", "oat cookies"])

    assert row_ids(await page(staff, "/admin/todos/todo/?q=buy+oat")) == [ids[0]]


async def test_search_without_a_match_says_so(staff: Client, conn: Any) -> None:
    await add_todos(conn, ["a"])

    body = await page(staff, "/admin/todos/todo/?q=zzz")

    assert row_ids(body) == []
    assert "No todos match." in body


# Filters


async def test_boolean_filter_shows_only_matching_rows(staff: Client, conn: Any) -> None:
    done = await add_todos(conn, ["a", "b"], finished=True)
    await add_todos(conn, ["c"])

    body = await page(staff, "/admin/todos/todo/?f_finished=1")

    assert row_ids(body) == done
    assert re.search(r'<li class="selected"><a href="[^"]*" id="filter-finished-1"', body)


async def test_boolean_filter_no(staff: Client, conn: Any) -> None:
    await add_todos(conn, ["a"], finished=True)
    open_ = await add_todos(conn, ["c"])

    assert row_ids(await page(staff, "/admin/todos/todo/?f_finished=0")) == open_


async def test_foreign_key_filter_lists_the_referenced_rows_and_filters(
    staff: Client, conn: Any
) -> None:
    first = await create_question(conn, "First?", ["a", "b"])
    second = await create_question(conn, "Second?", ["c"])
    wanted = [c.id for c in await get_choices(conn, second.id)]

    body = await page(staff, f"/admin/polls/choice/?f_question_id={second.id}")

    assert row_ids(body) == wanted
    assert f'id="filter-question_id-{first.id}">First?</a>' in body
    assert f'id="filter-question_id-{second.id}" aria-current="true">Second?</a>' in body


async def _dated_questions(conn: Any) -> dict[str, int]:
    now = dt.datetime.now(dt.UTC)
    dates = {
        "today": now,
        "week": now - dt.timedelta(days=3),
        "old": now - dt.timedelta(days=800),
    }
    return {key: (await create_question(conn, key, [], when)).id for key, when in dates.items()}


async def test_date_filter_today(staff: Client, conn: Any) -> None:
    ids = await _dated_questions(conn)

    assert row_ids(await page(staff, "/admin/polls/question/?f_pub_date=today")) == [ids["today"]]


async def test_date_filter_past_seven_days(staff: Client, conn: Any) -> None:
    ids = await _dated_questions(conn)

    body = await page(staff, "/admin/polls/question/?f_pub_date=7d")

    assert row_ids(body) == [ids["today"], ids["week"]]


async def test_date_filter_this_year(staff: Client, conn: Any) -> None:
    ids = await _dated_questions(conn)

    body = await page(staff, "/admin/polls/question/?f_pub_date=year")

    assert ids["old"] not in row_ids(body)
    assert ids["today"] in row_ids(body)


async def test_date_filter_from_and_to(staff: Client, conn: Any) -> None:
    ids = await _dated_questions(conn)
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=800)).date()
    since = old - dt.timedelta(days=1)

    body = await page(
        staff, f"/admin/polls/question/?f_pub_date__gte={since}&f_pub_date__lte={old}"
    )

    assert row_ids(body) == [ids["old"]]
    assert f'name="f_pub_date__gte" value="{since}"' in body


async def test_date_filter_on_a_nullable_column_can_ask_for_empty(
    staff: Client, conn: Any, staff_user: User
) -> None:
    kept, _ = await create_token(conn, staff_user.id, "kept")
    revoked, _ = await create_token(conn, staff_user.id, "revoked")
    await conn.execute(
        api_tokens.update().where(api_tokens.c.id == revoked.id).values(revoked_at=sa.func.now())
    )

    active = row_ids(await page(staff, "/admin/platform/api_tokens/?f_revoked_at=null"))
    gone = row_ids(await page(staff, "/admin/platform/api_tokens/?f_revoked_at=notnull"))

    assert active == [kept.id]
    assert gone == [revoked.id]


async def test_an_invalid_filter_value_is_ignored(staff: Client, conn: Any) -> None:
    ids = await add_todos(conn, ["a", "b"])

    body = await page(staff, "/admin/todos/todo/?f_finished=maybe&f_name=a&f_pub_date=today")

    assert row_ids(body) == ids


# The query kept in links


async def test_pagination_links_keep_the_search_filters_and_order(staff: Client, conn: Any) -> None:
    await add_todos(conn, [f"milk {n:03}" for n in range(60)], finished=True)

    body = await page(staff, "/admin/todos/todo/?q=milk&f_finished=1&o=-name")

    link = re.search(r'<a href="([^"]*)" rel="next" id="page-next">', body)
    assert link
    assert URL(link.group(1).replace("&amp;", "&")).query == {
        "q": "milk",
        "f_finished": "1",
        "o": "-name",
        "p": "2",
    }


async def test_filter_links_keep_the_search_and_drop_the_page(staff: Client, conn: Any) -> None:
    await add_todos(conn, [f"milk {n:03}" for n in range(60)])

    body = await page(staff, "/admin/todos/todo/?q=milk&p=2")

    link = re.search(r'<a href="([^"]*)" id="filter-finished-0"', body)
    assert link
    assert URL(link.group(1).replace("&amp;", "&")).query == {"q": "milk", "f_finished": "0"}


async def test_the_search_form_keeps_the_filters_as_hidden_inputs(staff: Client, conn: Any) -> None:
    body = await page(staff, "/admin/todos/todo/?f_finished=1&o=name")

    form = re.search(r'<form class="search".*?</form>', body, re.S)
    assert form
    assert '<input type="hidden" name="f_finished" value="1">' in form.group(0)
    assert '<input type="hidden" name="o" value="name">' in form.group(0)


# Bulk delete


async def test_bulk_delete_asks_for_confirmation_listing_the_rows_and_their_cascade(
    staff: Client, conn: Any
) -> None:
    first = await create_question(conn, "Delete me?", ["yes", "no"])
    second = await create_question(conn, "Me too?", ["sure"])

    response = await staff.get(
        f"/admin/polls/question/bulk?action=delete&ids={first.id}&ids={second.id}"
    )

    body = await response.text()
    assert response.status == 200
    assert "<h1>Delete 2 questions?</h1>" in body
    assert "Delete me?" in body
    assert "Me too?" in body
    assert "3 choices" in body
    assert ">yes</a>" in body
    assert (await conn.scalar(sa.select(sa.func.count()).select_from(question))) == 2


async def test_confirmed_bulk_delete_deletes_the_rows_and_returns_to_the_list(
    staff: Client, conn: Any
) -> None:
    ids = await add_todos(conn, ["a", "b", "c"])

    response = await post(
        staff,
        "/admin/todos/todo/bulk",
        [("action", "delete"), ("ids", ids[0]), ("ids", ids[2]), ("back", "q=x&f_finished=0")],
    )

    assert response.status == 303
    assert response.headers["Location"] == "/admin/todos/todo/?q=x&f_finished=0"
    assert [t.id for t in await list_todos(conn)] == [ids[1]]
    assert "Deleted 2 todos." in await (await staff.get("/admin/")).text()


async def test_bulk_delete_cascades_to_the_children(staff: Client, conn: Any) -> None:
    doomed = await create_question(conn, "Doomed?", ["a", "b"])

    await post(staff, "/admin/polls/question/bulk", [("action", "delete"), ("ids", doomed.id)])

    assert await conn.scalar(sa.select(sa.func.count()).select_from(choice)) == 0


async def test_bulk_delete_is_logged_once_per_row(staff: Client, conn: Any) -> None:
    ids = await add_todos(conn, ["a", "b"])

    await post(
        staff, "/admin/todos/todo/bulk", [("action", "delete"), ("ids", ids[0]), ("ids", ids[1])]
    )

    logged = await conn.execute(sa.select(admin_log.c.row_id, admin_log.c.action))
    assert sorted([(row.row_id, row.action) async for row in logged]) == [
        (ids[0], "delete"),
        (ids[1], "delete"),
    ]


async def test_bulk_without_a_selection_goes_back_with_a_message(staff: Client) -> None:
    response = await staff.get(
        "/admin/todos/todo/bulk?action=delete&back=q%3Dmilk", allow_redirects=False
    )

    assert response.status == 303
    assert response.headers["Location"] == "/admin/todos/todo/?q=milk"
    assert "Select at least one todo first." in await (await staff.get("/admin/")).text()


async def test_bulk_with_an_unknown_action_changes_nothing(staff: Client, conn: Any) -> None:
    ids = await add_todos(conn, ["a"])

    response = await post(staff, "/admin/todos/todo/bulk", [("action", "drop"), ("ids", ids[0])])

    assert response.status == 303
    assert [t.id for t in await list_todos(conn)] == ids


async def test_the_list_offers_checkboxes_named_ids_and_the_delete_action(
    staff: Client, conn: Any
) -> None:
    ids = await add_todos(conn, ["a"])

    body = await page(staff, "/admin/todos/todo/")

    assert f'<input type="checkbox" name="ids" value="{ids[0]}" id="select-{ids[0]}"' in body
    assert '<option value="delete">Delete selected todos</option>' in body


async def test_a_todo_created_elsewhere_is_listed_with_its_finished_state(
    staff: Client, conn: Any
) -> None:
    await create_todo(conn, "Shown", finished=True)

    body = await page(staff, "/admin/todos/todo/")

    assert "Shown" in body
    assert '<td class="cell-boolean">Yes</td>' in body


async def test_cancelling_a_bulk_action_returns_to_the_list_as_it_was(
    staff: Client, conn: Any
) -> None:
    ids = await add_todos(conn, ["a"])

    body = await page(
        staff, f"/admin/todos/todo/bulk?action=delete&ids={ids[0]}&back=q%3Da%26o%3D-name"
    )

    assert 'id="cancel" href="/admin/todos/todo/?q=a&amp;o=-name"' in body
