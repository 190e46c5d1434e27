"""Every route with an id in its path answers 404 for an id that names no row, whatever it is.

Huge, negative, zero, non-numeric, other scripts' digits, padded or signed:
for each route of the real site with an ``*_id`` part (pages, forms, admin
and API alike), as staff (so no guard stands in the way), with a valid CSRF
token or API token and a valid body, the answer is the section's 404 and
never a 500.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from yarl import URL

from portal.apps.polls.queries import create_question, get_choices
from portal.apps.todos.queries import create_todo
from portal.platform.api.problems import PROBLEM_TYPE
from portal.platform.auth.tokens import create_token
from portal.platform.auth.users import User
from portal.testing import Client, csrf_token, log_in
from tests.platform.test_route_inventory import Route, apps_sample_ids, inventory

#: The largest id an ``integer`` column holds.
MAX_ID = 2**31 - 1
#: Ids of the rows the fixture creates stay below this; any other number names no row.
FIRST_UNUSED = 100


def _not_ascii_digits(text: str) -> bool:
    return not (text.isascii() and text.isdigit())


def _not_a_dot_segment(text: str) -> bool:
    # "." and ".." are removed from a path by URL normalisation before routing.
    return text.strip(".") != ""


#: The zero of every other script's decimal digits (Arabic-Indic, fullwidth, ...).
OTHER_ZEROS = [
    chr(code)
    for code in range(0x80, 0x20000)
    if unicodedata.category(chr(code)) == "Nd" and unicodedata.digit(chr(code)) == 0
]


def in_script(number: int, zero: str) -> str:
    """*number* written in the digits that start at *zero*."""
    return "".join(chr(ord(zero) + int(digit)) for digit in str(number))


#: Path ids that name no row: every way an id can be wrong.
NO_SUCH_ID = st.one_of(
    st.integers(min_value=MAX_ID + 1).map(str),
    st.integers(max_value=-1).map(str),
    st.just("0"),
    st.integers(FIRST_UNUSED, MAX_ID).map(str),
    st.integers(FIRST_UNUSED, 10**6).map(lambda n: "0" * 5 + str(n)),
    # Other scripts' digits, also for the ids that exist (an Arabic-Indic 1 is 1).
    st.builds(in_script, st.integers(1, 3), st.sampled_from(OTHER_ZEROS)),
    st.text(st.characters(categories=["Nd"]), min_size=1, max_size=12).filter(_not_ascii_digits),
    st.sampled_from(["+1", " 1", "1 ", "1.0", "1e3", "0x1", "1_0", "²", "½", "NaN", "-0"]),
    st.text(min_size=1, max_size=20).filter(_not_ascii_digits).filter(_not_a_dot_segment),
)


@dataclass(frozen=True, slots=True)
class Site:
    """A staff client with its CSRF and API tokens, and the ids of real rows."""

    client: Client
    csrf: str
    token: str
    real: dict[str, str]


async def real_rows(conn: Any) -> dict[str, str]:
    """New rows, and the value of each path part that names them."""
    apps = await apps_sample_ids(conn)
    question = await create_question(conn, "Which id?", ["This one"])
    (choice,) = await get_choices(conn, question.id)
    todo = await create_todo(conn, f"Find me by id {question.id}")
    assert max(question.id, choice.id, todo.id) < FIRST_UNUSED
    return {
        "question_id": str(question.id),
        "choice_id": str(choice.id),
        "todo_id": str(todo.id),
        "row_id": str(todo.id),
        # The admin's table part: a registered table whose row id is todo_id.
        "app": "todos",
        "table": "todo",
        **apps,
    }


@pytest.fixture
async def site(client: Client, staff_user: User, conn: Any) -> Site:
    real = await real_rows(conn)
    await log_in(client, staff_user.username)
    _, token = await create_token(conn, staff_user.id, "paths")
    return Site(client, await csrf_token(client, "/admin/"), token, real)


def id_routes(client: Client) -> list[tuple[Route, list[str]]]:
    """Each route with an id in its path, and the names of its path parts."""
    found = []
    for route in inventory(client.app):
        info = route.resource.get_info()
        formatter = info.get("formatter", "")
        parts = [part.strip("{}") for part in formatter.split("/") if part.startswith("{")]
        if any(part.endswith("_id") for part in parts):
            found.append((route, parts))
    return found


#: A valid body for each API write, so only the id can be at fault.
API_BODIES = {
    ("PATCH", "api:todos.item"): {"finished": True},
    ("PATCH", "api:questions.item"): {"question_text": "Still there?"},
    ("POST", "api:questions.choices"): {"choice_text": "Another"},
}


async def call(site: Site, route: Route, path: str, real: dict[str, str] | None = None) -> Any:
    """*route* at the raw *path*, with what it needs besides a good id."""
    headers: dict[str, str] = {}
    kwargs: dict[str, Any] = {}
    if route.policy.auth == "bearer":
        headers["Authorization"] = f"Bearer {site.token}"
        if route.key in API_BODIES:
            kwargs["json"] = API_BODIES[route.key]
    elif route.method not in ("GET", "HEAD"):
        headers["X-CSRF-Token"] = site.csrf
        if route.name == "polls:vote":
            kwargs["data"] = {"choice": (real or site.real)["choice_id"]}
    base = str(site.client.make_url("/")).rstrip("/")
    # Sent as written: the client must not normalise or re-quote the id.
    url = URL(base + path, encoded=True)
    return await site.client.session.request(
        route.method, url, headers=headers, allow_redirects=False, **kwargs
    )


def path_with(route_parts: list[str], formatter: str, real: dict[str, str], **bad: str) -> str:
    values = {
        part: quote(bad.get(part, real[part]), safe="").replace(".", "%2E") for part in route_parts
    }
    return formatter.format_map(values)


async def test_every_id_part_has_a_real_row(client: Client, conn: Any) -> None:
    real = await real_rows(conn)
    missing = {
        (route.name, part)
        for route, parts in id_routes(client)
        for part in parts
        if part not in real
    }

    # The fix for a new app's route: a sample_ids(conn) in tests/apps/<app>/__init__.py
    # that makes a row and returns {"<part>": str(its id)}.
    assert not missing


def test_every_route_with_an_id_is_covered(client: Client) -> None:
    names = {route.key for route, _ in id_routes(client)}

    # The pages, the todo forms, the admin's row pages and the API's items.
    assert {
        ("GET", "polls:detail"),
        ("POST", "polls:vote"),
        ("GET", "polls:results"),
        ("GET", "polls:live"),
        ("POST", "todos:toggle"),
        ("POST", "todos:delete"),
        ("GET", "admin:change"),
        ("POST", "admin:change_submit"),
        ("POST", "admin:delete_submit"),
        ("GET", "admin:history"),
        ("PATCH", "api:todos.item"),
        ("POST", "api:questions.vote"),
    } <= names


async def test_the_real_ids_are_found(site: Site, conn: Any) -> None:
    # So that a 404 below is about the id, not about the rest of the request.
    for route, parts in id_routes(site.client):
        if route.name == "polls:live":
            continue  # a WebSocket: a plain GET is refused for another reason
        # Fresh rows each time: some of these routes delete them.
        real = await real_rows(conn)
        formatter = route.resource.get_info()["formatter"]
        response = await call(site, route, path_with(parts, formatter, real), real)
        assert response.status != 404, route.key


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(bad=NO_SUCH_ID)
@example(bad="\u0661")  # an Arabic-Indic 1: the id of a row that exists
async def test_an_id_that_names_no_row_is_a_404(site: Site, bad: str) -> None:
    wrong = []
    for route, parts in id_routes(site.client):
        formatter = route.resource.get_info()["formatter"]
        for part in (part for part in parts if part.endswith("_id")):
            response = await call(
                site, route, path_with(parts, formatter, site.real, **{part: bad})
            )
            expected_type = PROBLEM_TYPE if route.policy.errors == "problem" else "text/html"
            if response.status != 404 or response.content_type != expected_type:
                wrong.append((route.method, route.name, part, response.status))

    assert not wrong
