"""Every HTML form, fed anything a client can send: a clean 2xx/3xx/4xx, never a 500.

Property-based (Hypothesis) over the login, logout, vote and todo forms and
the admin's add, change, bulk and list forms, with arbitrary Unicode and the
inputs forms usually trip on (NUL, other scripts' digits, huge numbers, dates
at the ends of the calendar). Where the app accepts a text, it reads back
identical on the page and through the API. Bodies that are not well-formed
forms (not UTF-8, broken multipart) are a 400 page on every route that reads a
form, found from the route table, and change nothing.

Each property shares one client and database across its examples (pytest-
asyncio runs the async Hypothesis test on the test's event loop).
"""

from __future__ import annotations

import html
import logging
import re
from typing import Any
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from yarl import URL

from portal.apps.polls.queries import create_question, get_choices
from portal.apps.polls.tables import choice, question
from portal.apps.todos.queries import count_todos, create_todo, get_todo
from portal.apps.todos.tables import todo
from portal.platform.admin.builtin import PLATFORM_TABLES
from portal.platform.admin.forms import unbound
from portal.platform.admin.options import AdminTable
from portal.platform.admin.resolve import parse_ids
from portal.platform.admin.tables import admin_log
from portal.platform.auth.tokens import create_token
from portal.platform.auth.users import User
from portal.testing import PASSWORD, Client, csrf_token, log_in
from tests.conftest import INSTALLED_APPS
from tests.platform.test_route_inventory import Route, Rows, apps_sample_ids, inventory, url_of

PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
#: For the admin's forms, cheap enough to try more inputs.
ADMIN_PROPERTY = settings(PROPERTY, max_examples=60)
#: For the login form, where every example verifies an argon2 hash (~0.1-0.3 s).
LOGIN_PROPERTY = settings(PROPERTY, max_examples=10)

#: What forms usually trip on.
TRICKY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\t",
    "\r\n",
    "\u3000",
    "\x1c",
    "\u2028",
    "\ufeff",
    "\ufffd",
    "<script>alert(1)</script>",
    "{{7*7}}",
    "'; DROP TABLE todo; --",
    "%s %(x)s",
    "\\",
    "../",
    "²",
    "\u0661\u0662",  # 12 in Arabic-Indic digits
    "\uff11",  # a fullwidth 1
    "99999999999999999999",
    "-1",
    "0",
    "1e999",
    "NaN",
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:59:59",
    "0001-01-01 00:00",
    "2024-02-30T00:00",
    "on",
    "👍🏽",
    "a" * 256,
    "é" * 201,
]
#: One field's value: any text a browser can send, a tricky one, or a number.
FIELD = st.one_of(st.text(max_size=40), st.sampled_from(TRICKY), st.integers().map(str))


_URLENCODED = {"Content-Type": "application/x-www-form-urlencoded"}


async def post_form(
    client: Client, path: str, fields: dict[str, str] | list[tuple[str, str]], token: str
) -> Any:
    """POST *fields* urlencoded to *path* with the CSRF token, not following redirects."""
    items = list(fields.items()) if isinstance(fields, dict) else list(fields)
    body = urlencode([("csrf_token", token), *items]).encode()
    return await client.post(path, data=body, headers=_URLENCODED, allow_redirects=False)


def texts(body: str, pattern: str) -> list[str]:
    """What the elements *pattern* captures say, as a reader sees them (entities decoded)."""
    return [html.unescape(text) for text in re.findall(pattern, body, re.S)]


def todo_names(body: str) -> list[str]:
    """The names the todo list page shows."""
    return texts(body, r'<span class="name">(.*?)</span>')


def question_on_pages(detail: str) -> tuple[list[str], list[str]]:
    """A question's heading and its choices' labels on its detail page."""
    return texts(detail, r"<h1>(.*?)</h1>"), texts(detail, r'<label for="choice\d+">(.*?)</label>')


def polls_index(body: str) -> list[str]:
    """The question texts the polls index lists."""
    listed = re.search(r'<ul class="questions">(.*?)</ul>', body, re.S)
    return texts(listed.group(1), r"<a [^>]*>(.*?)</a>") if listed else []


# Login and logout


@LOGIN_PROPERTY
@given(username=FIELD, password=FIELD, next_=FIELD)
async def test_the_login_form_refuses_credentials_of_no_user_cleanly(
    client: Client, user: User, username: str, password: str, next_: str
) -> None:
    assume((username.strip(), password) != (user.username, PASSWORD))
    token = await csrf_token(client)

    response = await post_form(
        client, "/login", {"username": username, "password": password, "next": next_}, token
    )

    # 429 once an account has failed too often.
    assert response.status in (400, 429)


def as_a_browser_reads(location: str) -> str:
    """A ``Location`` the way a browser parses it: outer controls and spaces, and
    tabs and newlines anywhere, ignored; backslashes taken for slashes (WHATWG URL)."""
    text = location.strip("".join(map(chr, range(0x21))))
    return re.sub("[\t\n\r]", "", text).replace("\\", "/")


#: Ways to write an address elsewhere that a naive check lets through.
OFF_SITE = [
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\r\n/evil.example",
    " //evil.example",
    "\x00//evil.example",
    "https://evil.example/",
    "https:evil.example",
    "javascript:alert(1)",
    "///evil.example",
    "/%2F%2Fevil.example",
]


@LOGIN_PROPERTY
@given(next_=st.one_of(FIELD, st.sampled_from(OFF_SITE)))
@example(next_="/\t/evil.example")
async def test_a_login_goes_on_to_next_only_within_the_site(
    client: Client, user: User, next_: str
) -> None:
    client.session.cookie_jar.clear()
    token = await csrf_token(client)

    response = await post_form(
        client, "/login", {"username": user.username, "password": PASSWORD, "next": next_}, token
    )

    assert response.status == 303
    seen = as_a_browser_reads(response.headers["Location"])
    assert seen.startswith("/")
    assert not seen.startswith("//")


@PROPERTY
@given(fields=st.lists(st.tuples(FIELD, FIELD), max_size=5))
async def test_logout_ignores_whatever_else_the_form_carries(
    client: Client, fields: list[tuple[str, str]]
) -> None:
    token = await csrf_token(client)

    response = await post_form(client, "/logout", fields, token)

    assert response.status == 303
    assert response.headers["Location"] == "/"


# The vote form


@pytest.fixture
async def poll(conn: Any) -> int:
    """A published question with two choices; its id."""
    asked = await create_question(conn, "Which?", ["One", "Two"])
    return asked.id


async def total_votes(conn: Any) -> int:
    return int(await conn.scalar(sa.select(sa.func.coalesce(sa.func.sum(choice.c.votes), 0))))


@PROPERTY
@given(choice_=st.one_of(FIELD, st.sampled_from(["1", "2", " 2 ", "+1", "\u0661", "02"])))
async def test_a_vote_is_counted_exactly_when_the_form_redirects(
    client: Client, conn: Any, poll: int, choice_: str
) -> None:
    token = await csrf_token(client)
    before = await total_votes(conn)

    response = await post_form(client, f"/polls/{poll}/vote", {"choice": choice_}, token)

    assert response.status in (303, 400)
    assert await total_votes(conn) - before == (1 if response.status == 303 else 0)


# The todo forms


@pytest.fixture
async def alice(client: Client, user: User) -> tuple[Client, str]:
    """The client logged in as ``alice``, and her session's CSRF token."""
    assert (await log_in(client, user.username)).status == 303
    return client, await csrf_token(client, "/todos/")


def acceptable_todo_name(name: str) -> bool:
    """What the todo form accepts: something besides whitespace, short enough, no NUL."""
    stripped = name.strip()
    return 0 < len(stripped) <= 255 and "\x00" not in stripped


#: Names of any Unicode a form can carry, at every length the column allows.
ANY_NAME = st.one_of(FIELD, st.text(min_size=1, max_size=255))


@PROPERTY
@given(name=ANY_NAME)
async def test_a_todo_name_is_stored_exactly_when_acceptable_and_reads_back_identical(
    alice: tuple[Client, str], conn: Any, name: str
) -> None:
    client, token = alice
    await conn.execute(todo.delete())

    response = await post_form(client, "/todos/", {"name": name}, token)

    page = todo_names(await (await client.get("/todos/")).text())
    api = [item["name"] for item in (await (await client.get("/api/todos/")).json())["items"]]
    if acceptable_todo_name(name):
        assert response.status == 303
        # Surrounding whitespace is not part of a name.
        assert page == api == [name.strip()]
    else:
        assert response.status == 400
        assert page == api == []


@settings(PROPERTY, max_examples=10)
@given(fields=st.lists(st.tuples(FIELD, FIELD), max_size=4))
async def test_toggle_flips_the_todo_whatever_else_the_form_carries(
    alice: tuple[Client, str], conn: Any, fields: list[tuple[str, str]]
) -> None:
    client, token = alice
    await conn.execute(todo.delete())
    item = await create_todo(conn, "Toggle me")

    response = await post_form(client, f"/todos/{item.id}/toggle", fields, token)

    assert response.status == 303
    assert (await get_todo(conn, item.id)).finished


@settings(PROPERTY, max_examples=10)
@given(fields=st.lists(st.tuples(FIELD, FIELD), max_size=4))
async def test_delete_removes_the_todo_whatever_else_the_form_carries(
    alice: tuple[Client, str], conn: Any, fields: list[tuple[str, str]]
) -> None:
    client, token = alice
    await conn.execute(todo.delete())
    item = await create_todo(conn, "Delete me")

    response = await post_form(client, f"/todos/{item.id}/delete", fields, token)

    assert response.status == 303
    assert await count_todos(conn) == 0


# The admin's forms


def registrations() -> list[tuple[str, AdminTable]]:
    """``(app, registration)`` of every table the admin shows."""
    found = [(spec.name, admin) for spec in INSTALLED_APPS for admin in spec.admin]
    return [*found, *(("platform", admin) for admin in PLATFORM_TABLES)]


TABLES = registrations()
QUESTION = next(admin for _, admin in TABLES if admin.name == "question")
#: A valid question form without its inline rows.
QUESTION_FORM = [("question_text", "Why?"), ("pub_date", "2024-01-02T03:04:05")]


def input_names(admin: AdminTable) -> list[str]:
    """Every input of the table's add form, its inlines' rows and counters included."""
    form = unbound(admin)
    names = [bound.name for bound in [*form.fields, *form.password] if not bound.field.readonly]
    for inline_form in form.inlines:
        names.append(inline_form.total_name)
        for row in inline_form.rows:
            names += [bound.name for bound in row.fields]
            names += [f"{row.prefix}-id", f"{row.prefix}-DELETE"]
    return names


@pytest.fixture
async def staff(client: Client, staff_user: User) -> tuple[Client, str]:
    """The client logged in as the staff user ``admin``, and its CSRF token."""
    assert (await log_in(client, staff_user.username)).status == 303
    return client, await csrf_token(client, "/admin/")


@pytest.fixture
async def rows(conn: Any, user: User) -> dict[str, int]:
    """A row of each registered table to change (a user other than the one acting)."""
    asked = await create_question(conn, "Change me?", ["Yes", "No"])
    first_choice = await conn.scalar(sa.select(sa.func.min(choice.c.id)))
    api_token, _ = await create_token(conn, user.id, "change me")
    return {
        "question": asked.id,
        "choice": int(first_choice),
        "todo": (await create_todo(conn, "Change me")).id,
        "users": user.id,
        "api_tokens": api_token.id,
    }


def test_every_admin_table_is_fuzzed() -> None:
    assert {admin.name for _, admin in TABLES} >= {
        "question",
        "choice",
        "todo",
        "users",
        "api_tokens",
    }


@st.composite
def admin_form(draw: st.DrawFn) -> tuple[str, AdminTable, list[tuple[str, str]]]:
    """A registered table and a posted form for it: every input, each with any value."""
    app, admin = draw(st.sampled_from(TABLES))
    fields = [(name, draw(FIELD)) for name in input_names(admin)]
    if admin.password is not None and draw(st.booleans()):
        # Now and then the two passwords agree, so the form can be valid.
        first = dict(fields).get("password1", "")
        fields = [(name, first if name == "password2" else value) for name, value in fields]
    extra = draw(st.lists(st.tuples(FIELD, FIELD), max_size=3))
    return app, admin, [*fields, *extra]


@ADMIN_PROPERTY
@given(posted=admin_form())
# "²" is a digit to str.isdigit() that int() refuses.
@example(posted=("polls", QUESTION, [*QUESTION_FORM, ("choice-TOTAL", "²")]))
async def test_an_admin_add_form_answers_with_a_redirect_or_its_errors(
    staff: tuple[Client, str], posted: tuple[str, AdminTable, list[tuple[str, str]]]
) -> None:
    client, token = staff
    app, admin, fields = posted

    response = await post_form(client, f"/admin/{app}/{admin.name}/add", fields, token)

    expected = (303, 400) if admin.can_add else (404,)
    assert response.status in expected


@ADMIN_PROPERTY
@given(posted=admin_form())
@example(posted=("polls", QUESTION, [*QUESTION_FORM, ("choice-TOTAL", "1"), ("choice-0-id", "²")]))
async def test_an_admin_change_form_answers_with_a_redirect_or_its_errors(
    staff: tuple[Client, str],
    rows: dict[str, int],
    posted: tuple[str, AdminTable, list[tuple[str, str]]],
) -> None:
    client, token = staff
    app, admin, fields = posted
    assume(admin.name in rows)

    response = await post_form(
        client, f"/admin/{app}/{admin.name}/{rows[admin.name]}/", fields, token
    )

    assert response.status in (303, 400)


def bulk_action(admin: AdminTable) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(["delete", *(a.name for a in admin.actions)]), FIELD)


@st.composite
def bulk_form(draw: st.DrawFn) -> tuple[str, AdminTable, list[tuple[str, str]]]:
    """A table, and an action with the ids of the rows it is for."""
    app, admin = draw(st.sampled_from(TABLES))
    ids = draw(st.lists(st.one_of(FIELD, st.integers(1, 5).map(str)), max_size=6))
    fields = [("action", draw(bulk_action(admin))), *(("ids", text) for text in ids)]
    if draw(st.booleans()):
        fields.append(("back", draw(FIELD)))
    return app, admin, fields


@ADMIN_PROPERTY
@given(posted=bulk_form())
@example(posted=("polls", QUESTION, [("action", "delete"), ("ids", "²")]))
async def test_an_admin_bulk_action_confirms_or_goes_back_to_the_list(
    staff: tuple[Client, str],
    staff_user: User,
    rows: dict[str, int],
    posted: tuple[str, AdminTable, list[tuple[str, str]]],
) -> None:
    client, token = staff
    app, admin, fields = posted
    if admin.name == "users":
        # Deleting or deactivating oneself would end the property's session.
        fields = [
            (name, value)
            for name, value in fields
            if name != "ids" or staff_user.id not in parse_ids([value])
        ]
    path = f"/admin/{app}/{admin.name}/bulk"

    confirm = await client.get(URL(path).with_query(fields), allow_redirects=False)
    applied = await post_form(client, path, fields, token)

    assert confirm.status in (200, 303)
    assert applied.status == 303
    assert URL(applied.headers["Location"]).path == f"/admin/{app}/{admin.name}/"


@st.composite
def list_query(draw: st.DrawFn) -> tuple[str, AdminTable, dict[str, str]]:
    """A table, and a list query of its search, order, page and filter parameters."""
    app, admin = draw(st.sampled_from(TABLES))
    names = ["q", "o", "p"]
    for name in admin.filters:
        names += [f"f_{name}", f"f_{name}__gte", f"f_{name}__lte"]
    return app, admin, draw(st.dictionaries(st.sampled_from(names), FIELD))


@ADMIN_PROPERTY
@given(asked=list_query())
@example(asked=("polls", QUESTION, {"q": "a\x00b"}))
@example(asked=("polls", QUESTION, {"p": "²", "f_pub_date__lte": "9999-12-31"}))
async def test_an_admin_list_shows_whatever_its_query_asks(
    staff: tuple[Client, str], asked: tuple[str, AdminTable, dict[str, str]]
) -> None:
    client, _ = staff
    app, admin, query = asked

    response = await client.get(
        URL(f"/admin/{app}/{admin.name}/").with_query(query), allow_redirects=False
    )

    assert response.status == 200


# Round trips through the admin


def acceptable_question_text(text: str) -> bool:
    stripped = text.strip()
    return 0 < len(stripped) <= 200 and "\x00" not in stripped


@PROPERTY
@given(text=st.one_of(FIELD, st.text(min_size=1, max_size=200)))
async def test_a_question_added_in_the_admin_reads_back_identical(
    staff: tuple[Client, str], conn: Any, text: str
) -> None:
    client, token = staff
    await conn.execute(question.delete())
    form = {"question_text": text, "pub_date": "2024-01-02T03:04:05", "choice-TOTAL": "0"}

    response = await post_form(client, "/admin/polls/question/add", form, token)

    index = polls_index(await (await client.get("/polls/")).text())
    if not acceptable_question_text(text):
        assert response.status == 400
        assert index == []
        return
    assert response.status == 303
    assert index == [text.strip()]
    (listed,) = (await (await client.get("/api/questions/")).json())["items"]
    assert listed["question_text"] == text.strip()
    heading, _ = question_on_pages(await (await client.get(f"/polls/{listed['id']}/")).text())
    assert heading == [text.strip()]


# What no form may carry


#: Every form, with a field that takes text: ``(path, valid fields, field to spoil)``.
TEXT_FIELDS = [
    ("/login", {"username": "alice", "password": PASSWORD}, "username"),
    ("/login", {"username": "alice", "password": PASSWORD}, "password"),
    ("/polls/{poll}/vote", {"choice": "1"}, "choice"),
    ("/todos/", {"name": "Milk"}, "name"),
    ("/admin/todos/todo/add", {"name": "Milk"}, "name"),
    (
        "/admin/polls/question/add",
        {"question_text": "Why?", "pub_date": "2024-01-02T03:04:05", "choice-TOTAL": "0"},
        "question_text",
    ),
    (
        "/admin/polls/choice/add",
        {"question_id": "{poll}", "choice_text": "Because", "votes": "0"},
        "choice_text",
    ),
    (
        "/admin/platform/users/add",
        {"username": "bob", "password1": PASSWORD, "password2": PASSWORD},
        "username",
    ),
    ("/admin/platform/api_tokens/add", {"name": "ci", "user_id": "{staff}"}, "name"),
]


async def test_a_nul_in_any_text_field_is_a_400(
    staff: tuple[Client, str], staff_user: User, poll: int
) -> None:
    client, token = staff
    wrong = []
    for path, valid, spoiled in TEXT_FIELDS:
        ids = {"poll": str(poll), "staff": str(staff_user.id)}
        fields = {name: value.format_map(ids) for name, value in valid.items()}
        fields[spoiled] = f"{fields[spoiled][:1]}\x00{fields[spoiled][1:]}"
        response = await post_form(client, path.format_map(ids), fields, token)
        if response.status != 400:
            wrong.append((path, spoiled, response.status))
        if path == "/login":
            # A refused login leaves the session as it was; keep the staff one.
            assert (await client.get("/admin/", allow_redirects=False)).status == 200

    assert not wrong


#: Bodies no browser sends: text that is not UTF-8 (a lone surrogate encoded, raw
#: or percent-encoded; a stray byte), or a charset nobody knows. ``{token}`` is
#: the CSRF token.
NOT_UTF8 = {
    "urlencoded, a stray byte": (
        "application/x-www-form-urlencoded",
        b"csrf_token={token}&name=\xff",
    ),
    "urlencoded, a surrogate": (
        "application/x-www-form-urlencoded",
        b"csrf_token={token}&name=\xed\xa0\x80",
    ),
    "urlencoded, an unknown charset": (
        "application/x-www-form-urlencoded; charset=no-such-charset",
        b"csrf_token={token}&name=x",
    ),
    "multipart, a stray byte": (
        "multipart/form-data; boundary=XyZ",
        b'--XyZ\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
        b'--XyZ\r\nContent-Disposition: form-data; name="name"\r\n'
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n\xff\r\n--XyZ--\r\n",
    ),
}


@pytest.mark.parametrize("body", NOT_UTF8.values(), ids=list(NOT_UTF8))
async def test_a_form_body_that_is_not_utf8_is_a_400(
    alice: tuple[Client, str], body: tuple[str, bytes]
) -> None:
    client, token = alice
    content_type, raw = body

    response = await client.post(
        "/todos/",
        data=raw.replace(b"{token}", token.encode()),
        headers={"Content-Type": content_type},
        allow_redirects=False,
    )

    assert response.status == 400


async def test_invalid_percent_escapes_are_read_leniently_not_refused(
    alice: tuple[Client, str],
) -> None:
    # As browsers and Django do: an escape that is not UTF-8 reads as U+FFFD.
    client, token = alice

    response = await client.post(
        "/todos/",
        data=f"csrf_token={token}&name=a%ED%A0%80b".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        allow_redirects=False,
    )

    assert response.status == 303


# Bodies that are not well-formed forms, on every route that reads a form

_PART = b'--XyZ\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
_LONG_BOUNDARY = "B" * 60

#: Malformed bodies, multipart and urlencoded: ``(Content-Type, body)``, where
#: ``{token}`` is the CSRF token (carried also in the header, so that no route
#: is spared because its view happens not to read the form).
MALFORMED = {
    **NOT_UTF8,
    "multipart, no boundary": ("multipart/form-data", _PART + b"--XyZ--\r\n"),
    "multipart, an empty boundary": (
        "multipart/form-data; boundary=",
        b'--\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n----\r\n',
    ),
    "multipart, a boundary over 70 characters": (
        "multipart/form-data; boundary=" + "B" * 71,
        _PART.replace(b"XyZ", b"B" * 71) + b"--" + b"B" * 71 + b"--\r\n",
    ),
    "multipart, a part without Content-Disposition": (
        "multipart/form-data; boundary=XyZ",
        _PART + b"--XyZ\r\n\r\nnameless\r\n--XyZ--\r\n",
    ),
    "multipart, a part that never ends": (
        "multipart/form-data; boundary=XyZ",
        _PART + b'--XyZ\r\nContent-Disposition: form-data; name="name"\r\n\r\nMilk',
    ),
    "multipart, a garbage part header": (
        "multipart/form-data; boundary=XyZ",
        _PART + b"--XyZ\r\nGarbage\r\n\r\nMilk\r\n--XyZ--\r\n",
    ),
    "multipart, no opening boundary": ("multipart/form-data; boundary=XyZ", b"{token}\r\n"),
    "multipart, a wrong closing boundary": (
        "multipart/form-data; boundary=XyZ",
        _PART + b"--XyZ-and-more\r\n",
    ),
    "multipart, too many part headers": (
        "multipart/form-data; boundary=XyZ",
        _PART + b"--XyZ\r\n" + b"X-Many: 1\r\n" * 200 + b"\r\nMilk\r\n--XyZ--\r\n",
    ),
    "multipart, a part header over 8 KiB": (
        "multipart/form-data; boundary=XyZ",
        _PART + b"--XyZ\r\nX-Long: " + b"a" * 9000 + b"\r\n\r\nMilk\r\n--XyZ--\r\n",
    ),
    "multipart, an unknown transfer encoding": (
        "multipart/form-data; boundary=XyZ",
        _PART + b'--XyZ\r\nContent-Disposition: form-data; name="name"\r\n'
        b"Content-Transfer-Encoding: rot13\r\n\r\nMilk\r\n--XyZ--\r\n",
    ),
    "multipart, broken base64": (
        "multipart/form-data; boundary=XyZ",
        _PART + b'--XyZ\r\nContent-Disposition: form-data; name="name"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nabc\r\n--XyZ--\r\n",
    ),
    "multipart, an unknown part charset": (
        "multipart/form-data; boundary=XyZ",
        _PART + b'--XyZ\r\nContent-Disposition: form-data; name="name"\r\n'
        b"Content-Type: text/plain; charset=no-such-charset\r\n\r\nMilk\r\n--XyZ--\r\n",
    ),
    "multipart, a _charset_ part with a long boundary": (
        "multipart/form-data; boundary=" + _LONG_BOUNDARY,
        (
            b'--XyZ\r\nContent-Disposition: form-data; name="_charset_"\r\n\r\nutf-8\r\n'
            + _PART
            + b"--XyZ--\r\n"
        ).replace(b"XyZ", _LONG_BOUNDARY.encode()),
    ),
    "multipart, a nested multipart part": (
        "multipart/form-data; boundary=XyZ",
        _PART + b"--XyZ\r\nContent-Type: multipart/mixed; boundary=Q\r\n\r\n"
        b"--Q\r\n\r\nx\r\n--Q--\r\n\r\n--XyZ--\r\n",
    ),
    "urlencoded, a charset that is no text encoding": (
        "application/x-www-form-urlencoded; charset=rot13",
        b"csrf_token={token}&name=Milk",
    ),
    # An odd number of bytes (the token is 43 characters): the last is half a unit.
    "urlencoded, truncated UTF-16": (
        "application/x-www-form-urlencoded; charset=utf-16",
        b"csrf_token={token}&name=Milk&",
    ),
}


def form_routes(client: Client) -> list[Route]:
    """Every route of the real site that reads a form: each unsafe one under CSRF."""
    return [
        route
        for route in inventory(client.app)
        if route.policy.csrf and route.method not in ("GET", "HEAD", "OPTIONS")
    ]


async def every_row(conn: Any) -> dict[str, list[Any]]:
    """Every row of every table the admin shows, and of its change log."""
    tables = [admin.table for _, admin in TABLES] + [admin_log]
    return {
        table.name: sorted(map(tuple, await (await conn.execute(sa.select(table))).fetchall()))
        for table in tables
    }


def test_every_form_route_is_covered(client: Client) -> None:
    assert {route.key for route in form_routes(client)} >= {
        ("POST", "login_submit"),
        ("POST", "logout"),
        ("POST", "polls:vote"),
        ("POST", "todos:add"),
        ("POST", "todos:toggle"),
        ("POST", "todos:delete"),
        ("POST", "admin:add_submit"),
        ("POST", "admin:change_submit"),
        ("POST", "admin:delete_submit"),
        ("POST", "admin:bulk_apply"),
    }


@pytest.mark.parametrize("body", MALFORMED.values(), ids=list(MALFORMED))
async def test_a_malformed_form_body_is_a_400_page_that_changes_nothing(
    staff: tuple[Client, str], conn: Any, caplog: pytest.LogCaptureFixture, body: tuple[str, bytes]
) -> None:
    client, token = staff
    content_type, raw = body
    question_ = await create_question(conn, "Malformed?", ["Yes"])
    (choice_id,) = [c.id for c in await get_choices(conn, question_.id)]
    todo_id = (await create_todo(conn, "Keep me")).id
    sample = Rows(question_.id, choice_id, todo_id, await apps_sample_ids(conn))
    before = await every_row(conn)
    wrong = []
    for route in form_routes(client):
        caplog.clear()
        response = await client.request(
            route.method,
            url_of(route, sample),
            data=raw.replace(b"{token}", token.encode()),
            headers={"Content-Type": content_type, "X-CSRF-Token": token},
            allow_redirects=False,
        )
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        if (response.status, response.content_type) != (400, "text/html") or (
            errors or len(warnings) > 1
        ):
            wrong.append((route.name, response.status, [r.getMessage() for r in errors]))

    assert not wrong
    assert await every_row(conn) == before
    # Logout refused too: the session is still logged in.
    assert (await client.get("/admin/", allow_redirects=False)).status == 200


# A malformed or foreign Host on every route, found from the route table

#: Hosts a request may not be answered for: malformed (RFC 9110), and foreign.
BAD_HOSTS = ["localhost:evil.example", "127.0.0.1:8200@evil.example", "evil.example"]


def any_url_of(route: Route, rows: Rows) -> URL:
    """The route's URL, a file's under a static route's prefix."""
    prefix = route.resource.get_info().get("prefix")
    if isinstance(prefix, str):
        return URL(f"{prefix}/any.css")
    return url_of(route, rows)


@pytest.mark.parametrize("host", BAD_HOSTS)
async def test_a_bad_host_is_refused_on_every_route_and_changes_nothing(
    staff: tuple[Client, str], conn: Any, host: str
) -> None:
    client, token = staff
    question_ = await create_question(conn, "Whose host?", ["Mine"])
    (choice_id,) = [c.id for c in await get_choices(conn, question_.id)]
    todo_id = (await create_todo(conn, "Keep me too")).id
    sample = Rows(question_.id, choice_id, todo_id, await apps_sample_ids(conn))
    before = await every_row(conn)
    routes = [route for route in inventory(client.app) if route.method != "*"]
    answered = []
    for route in routes:
        response = await client.request(
            route.method,
            any_url_of(route, sample),
            data={"csrf_token": token, "name": "Changed", "choice": str(choice_id)},
            headers={"Host": host, "X-CSRF-Token": token},
            allow_redirects=False,
        )
        if response.status != 400:
            answered.append((route.method, route.name, response.status))

    assert len(routes) > 40
    assert answered == []
    assert await every_row(conn) == before
