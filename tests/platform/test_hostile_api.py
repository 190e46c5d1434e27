"""Every API write, sent any JSON at all: an answer in JSON with a 2xx or 4xx, never a 500.

Property-based (Hypothesis) over each write endpoint's body, with arbitrary
JSON values and with bodies shaped like the endpoint's own (its field names,
any values: NUL, lone surrogates, huge numbers, nested junk). Texts the API
accepts read back identical through the API and on the HTML pages; texts it
refuses get a 4xx.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from portal.apps.polls.queries import count_questions, create_question, get_choices
from portal.apps.polls.tables import choice, question
from portal.apps.todos.queries import NAME_MAX_LENGTH, create_todo
from portal.apps.todos.tables import todo
from portal.platform.api.endpoints import api_endpoints_key
from portal.platform.api.problems import PROBLEM_TYPE
from portal.platform.appspec import mounts_key
from portal.platform.auth.tokens import create_token
from portal.platform.auth.users import User
from portal.testing import Client
from tests.platform.test_hostile_forms import polls_index, question_on_pages, todo_names

PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

#: Characters that texts trip on, beside any other Unicode (lone surrogates included).
_AWKWARD = st.sampled_from(["\x00", "\ud800", "\udfff", " ", "\t", "\u3000", "\x1c", "\u2028"])
TEXT = st.text(alphabet=st.one_of(st.characters(exclude_categories=[]), _AWKWARD), max_size=30)

SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63),
    st.floats(),
    TEXT,
    st.sampled_from(["2024-01-02T03:04:05Z", "9999-12-31T23:59:59-23:59", "0", "true"]),
)
JSON = st.recursive(
    SCALAR,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=10,
)

#: Each write endpoint: method, path under the API's prefix, and its body's fields.
WRITES: list[tuple[str, str, tuple[str, ...]]] = [
    ("POST", "/todos/", ("name", "finished")),
    ("PATCH", "/todos/{todo_id}", ("finished",)),
    ("POST", "/questions/", ("question_text", "pub_date", "choices")),
    ("PATCH", "/questions/{question_id}", ("question_text", "pub_date")),
    ("POST", "/questions/{question_id}/choices/", ("choice_text",)),
    ("POST", "/questions/{question_id}/choices/{choice_id}/vote", ()),
]


@st.composite
def body_for(draw: st.DrawFn, fields: tuple[str, ...]) -> Any:
    """A JSON value: any at all, or an object of the endpoint's fields with any values."""
    shaped = st.fixed_dictionaries(
        {},
        optional={
            name: st.lists(st.fixed_dictionaries({"choice_text": JSON}), max_size=3) | JSON
            if name == "choices"
            else JSON
            for name in fields
        },
    )
    return draw(st.one_of(JSON, shaped))


def encoded(body: Any, ascii_only: bool) -> bytes:
    """*body* as JSON text: lone surrogates escaped (valid JSON), or raw (not UTF-8)."""
    return json.dumps(body, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


@pytest.fixture
async def ids(conn: Any) -> dict[str, str]:
    asked = await create_question(conn, "Any body?", ["Yes"])
    (first,) = await get_choices(conn, asked.id)
    todo_id = (await create_todo(conn, "Any")).id
    return {"question_id": str(asked.id), "choice_id": str(first.id), "todo_id": str(todo_id)}


@pytest.fixture
async def staff_token(conn: Any, staff_user: User) -> str:
    _, secret = await create_token(conn, staff_user.id, "hostile")
    return secret


def test_every_api_write_is_fuzzed(client: Client) -> None:
    endpoints = client.app[mounts_key].get("api").app[api_endpoints_key]

    writes = {(e.method, e.path) for e in endpoints if e.method in ("POST", "PUT", "PATCH")}

    assert writes == {(method, path) for method, path, _ in WRITES}


@PROPERTY
@given(data=st.data(), ascii_only=st.booleans())
async def test_any_json_body_to_any_api_write_gets_a_json_answer_and_no_500(
    client: Client, ids: dict[str, str], staff_token: str, data: st.DataObject, ascii_only: bool
) -> None:
    method, path, fields = data.draw(st.sampled_from(WRITES))
    body = data.draw(body_for(fields))

    response = await client.request(
        method,
        "/api" + path.format_map(ids),
        data=encoded(body, ascii_only),
        headers={"Authorization": f"Bearer {staff_token}", "Content-Type": "application/json"},
    )

    assert response.status < 500
    if response.status >= 400:
        assert response.content_type == PROBLEM_TYPE
    elif response.status != 204:
        assert response.content_type == "application/json"
        json.loads(await response.text())


# What the API accepts, it gives back unchanged


def storable(text: str, limit: int) -> bool:
    """What the API's text fields take: up to *limit* characters, not only whitespace
    (``str.isspace``), no NUL, and nothing UTF-8 cannot encode (lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return 0 < len(text) <= limit and "\x00" not in text and not text.isspace()


@PROPERTY
@given(name=st.one_of(TEXT, st.text(min_size=1, max_size=NAME_MAX_LENGTH)))
@example(name=" padded ")
@example(name="\ud800")
@example(name="\x85")  # whitespace to Python and to pydantic's regex engine alike
@example(name="\x1f")  # whitespace to Python only
@example(name="\u180e")  # whitespace to neither since Unicode 6.3
async def test_a_todo_name_the_api_accepts_reads_back_identical_everywhere(
    client: Client, conn: Any, staff_token: str, name: str
) -> None:
    await conn.execute(todo.delete())
    headers = {"Authorization": f"Bearer {staff_token}", "Content-Type": "application/json"}

    response = await client.post(
        "/api/todos/", data=encoded({"name": name}, ascii_only=True), headers=headers
    )

    if not storable(name, NAME_MAX_LENGTH):
        assert response.status in (400, 422)
        return
    assert response.status == 201
    # The todo app's rule: surrounding whitespace is not part of a name.
    stored = name.strip()
    assert (await response.json())["name"] == stored
    read = await (await client.get(response.headers["Location"])).json()
    assert read["name"] == stored
    assert todo_names(await (await client.get("/todos/")).text()) == [stored]


@PROPERTY
@given(text=st.one_of(TEXT, st.text(min_size=1, max_size=200)), choice_text=TEXT)
@example(text="<script>alert(1)</script>", choice_text="{{7*7}}")
async def test_a_question_the_api_accepts_reads_back_identical_everywhere(
    client: Client, conn: Any, staff_token: str, text: str, choice_text: str
) -> None:
    await conn.execute(question.delete())
    headers = {"Authorization": f"Bearer {staff_token}", "Content-Type": "application/json"}
    body = {"question_text": text, "choices": [{"choice_text": choice_text}]}

    response = await client.post(
        "/api/questions/", data=encoded(body, ascii_only=True), headers=headers
    )

    if not (storable(text, 200) and storable(choice_text, 200)):
        assert response.status in (400, 422)
        assert await count_questions(conn) == 0
        return
    assert response.status == 201
    created = await response.json()
    assert (created["question_text"], created["choices"][0]["choice_text"]) == (text, choice_text)
    read = await (await client.get(response.headers["Location"])).json()
    assert (read["question_text"], read["choices"][0]["choice_text"]) == (text, choice_text)
    assert polls_index(await (await client.get("/polls/")).text()) == [text]
    detail = await (await client.get(f"/polls/{created['id']}/")).text()
    assert question_on_pages(detail) == ([text], [choice_text])


# An object that repeats a key, anywhere in the body


#: Short keys, so that a path of a few of them is quoted whole (and any Unicode).
KEY = st.text(alphabet=st.one_of(st.characters(exclude_categories=[]), _AWKWARD), max_size=8)


def strict_json(value: Any) -> bool:
    """Whether *value* is JSON as RFC 8259 has it (no NaN or infinities)."""
    try:
        json.dumps(value, allow_nan=False)
    except ValueError:
        return False
    return True


#: A JSON value as text.
JSON_TEXT = JSON.filter(strict_json).map(json.dumps)


def json_object(*members: tuple[str, str]) -> str:
    """An object's text from its members' keys and value texts, repeats and all."""
    return "{" + ", ".join(f"{json.dumps(key)}: {value}" for key, value in members) + "}"


@st.composite
def repeating(draw: st.DrawFn) -> tuple[bytes, str]:
    """JSON text with an object that repeats a key, nested in lists and objects,
    and the key's dotted path."""
    key = draw(KEY)
    text = json_object((key, draw(JSON_TEXT)), (key, draw(JSON_TEXT)))
    path = [key]
    for _ in range(draw(st.integers(0, 3))):
        if draw(st.booleans()):
            text, path = f"[{text}]", ["0", *path]
        else:
            outer = draw(KEY)
            text, path = json_object((outer, text)), [outer, *path]
    return text.encode(), ".".join(path)


def body_writes(client: Client) -> list[tuple[str, str]]:
    """``(method, path)`` of every API operation that reads a JSON body."""
    endpoints = client.app[mounts_key].get("api").app[api_endpoints_key]
    return [(e.method, e.path) for e in endpoints if e.body is not None]


async def every_row(conn: Any) -> list[Any]:
    return [
        sorted(map(tuple, await (await conn.execute(sa.select(table))).fetchall()))
        for table in (todo, question, choice)
    ]


@PROPERTY
@given(data=st.data())
@example(data=None)
async def test_a_body_repeating_a_key_anywhere_is_a_400_naming_it(
    client: Client, conn: Any, ids: dict[str, str], staff_token: str, data: st.DataObject | None
) -> None:
    writes = body_writes(client)
    if data is None:
        # The issue's own example, on every operation with a body.
        cases = [(write, (b'{"name": "a", "name": "b"}', "name")) for write in writes]
    else:
        cases = [(data.draw(st.sampled_from(writes)), data.draw(repeating()))]
    before = await every_row(conn)
    headers = {"Authorization": f"Bearer {staff_token}", "Content-Type": "application/json"}
    for (method, path), (raw, where) in cases:
        response = await client.request(
            method, "/api" + path.format_map(ids), data=raw, headers=headers
        )

        assert (response.status, response.content_type) == (400, PROBLEM_TYPE)
        problem = await response.json(content_type=PROBLEM_TYPE)
        # Lone surrogates cannot be sent in UTF-8: they come back escaped.
        shown = where.encode("utf-8", "backslashreplace").decode()
        assert [error["field"] for error in problem["errors"]] == [shown]
    assert await every_row(conn) == before
