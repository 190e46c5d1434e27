"""Registration: each app declares its tables as data; the admin shows what is mounted."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from portal.apps import polls, todos
from portal.apps.polls.queries import create_question
from portal.apps.todos.queries import create_todo
from portal.platform import admin
from portal.platform.admin.options import AdminTable, Inline, regular_plural
from portal.platform.auth.users import User
from portal.platform.exceptions import ConfigurationError
from portal.testing import Client, MakeClient, log_in
from tests.conftest import INSTALLED_APPS

_metadata = sa.MetaData()
_things = sa.Table(
    "things",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(20), nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
)
_keyless = sa.Table("keyless", _metadata, sa.Column("code", sa.String(5), primary_key=True))


def _dashboard_row(body: str, app: str, table: str) -> str:
    match = re.search(rf'<tr id="table-{app}-{table}">(.*?)</tr>', body, re.S)
    assert match, f"no dashboard row for {app}.{table}"
    return match.group(1)


def test_each_app_declares_its_tables_in_its_own_spec() -> None:
    assert [a.name for a in polls.spec.admin] == ["question", "choice"]
    assert [a.name for a in todos.spec.admin] == ["todo"]
    assert polls.spec.admin[0].inlines[0].table.name == "choice"


def test_a_declaration_naming_a_missing_column_fails_fast() -> None:
    with pytest.raises(ConfigurationError, match=r"'things'.*search names 'title'"):
        AdminTable(_things, "Things", "thing", ("name",), search=("title",))


def test_search_on_a_number_column_fails_fast() -> None:
    with pytest.raises(ConfigurationError, match="search column 'count' is not text"):
        AdminTable(_things, "Things", "thing", ("name",), search=("count",))


def test_filter_on_a_text_column_fails_fast() -> None:
    with pytest.raises(ConfigurationError, match="cannot filter on 'name'"):
        AdminTable(_things, "Things", "thing", ("name",), filters=("name",))


def test_a_table_without_an_integer_id_fails_fast() -> None:
    with pytest.raises(ConfigurationError, match="integer primary key named 'id'"):
        AdminTable(_keyless, "Keyless", "keyless", ("code",))


def test_an_inline_whose_column_does_not_reference_the_parent_fails_fast() -> None:
    with pytest.raises(ConfigurationError, match="'count' does not reference 'things'"):
        AdminTable(
            _things,
            "Things",
            "thing",
            ("name",),
            inlines=(Inline(_things, "count", ("name",), "X"),),
        )


def test_the_title_column_defaults_to_the_first_listed_text_column() -> None:
    declared = AdminTable(_things, "Things", "thing", ("id", "count", "name"))

    assert declared.title == "name"


async def test_dashboard_lists_every_registered_table_with_exact_counts(
    staff: Client, conn: Any
) -> None:
    await create_question(conn, "One?", ["a", "b", "c"])
    await create_question(conn, "Two?", ["d"])
    await create_todo(conn, "Only todo")

    body = await (await staff.get("/admin/")).text()

    assert "2 questions" in _dashboard_row(body, "polls", "question")
    assert "4 choices" in _dashboard_row(body, "polls", "choice")
    assert "1 todo" in _dashboard_row(body, "todos", "todo")
    assert "1 user" in _dashboard_row(body, "platform", "users")
    assert "0 API tokens" in _dashboard_row(body, "platform", "api_tokens")
    assert 'href="/admin/polls/question/"' in body
    assert 'href="/admin/todos/todo/add"' in body


async def test_dashboard_groups_tables_under_their_app_in_mount_order(staff: Client) -> None:
    body = await (await staff.get("/admin/")).text()

    sections = re.findall(r'<section class="app-module" id="app-(\w+)"', body)
    # The project's apps with admin tables (polls, todos, then any added), then
    # the platform's own.
    assert sections == [spec.name for spec in INSTALLED_APPS if spec.admin] + ["platform"]
    assert sections[:2] == ["polls", "todos"]


async def test_only_the_mounted_apps_appear(make_client: MakeClient, staff_user: User) -> None:
    client = await make_client(apps=[polls.spec, admin.spec])
    await log_in(client, staff_user.username)

    body = await (await client.get("/admin/")).text()

    assert 'id="app-polls"' in body
    assert 'id="app-todos"' not in body
    assert (await client.get("/admin/todos/todo/")).status == 404


async def test_the_admin_follows_its_prefix_setting(
    make_client: MakeClient, settings: Any, staff_user: User
) -> None:
    client = await make_client(settings.with_overrides(apps={"admin": "/staff/"}))
    await log_in(client, staff_user.username)

    body = await (await client.get("/staff/")).text()

    assert 'href="/staff/polls/question/"' in body
    assert "/admin/" not in body


@pytest.mark.parametrize(
    ("singular", "plural"),
    [
        ("question", "questions"),
        ("entry", "entries"),
        ("notes entry", "notes entries"),
        ("day", "days"),
        ("box", "boxes"),
        ("status", "statuses"),
        ("match", "matches"),
        ("y", "ys"),
    ],
)
def test_a_table_without_a_plural_gets_the_regular_one(singular: str, plural: str) -> None:
    assert regular_plural(singular) == plural
