"""A session cookie that is not one the site issued, or no longer valid, is simply anonymous.

Tampered copies of a real staff login, garbage, oversized and non-base64
values, logins past their lifetime and cookies past their max-age: each is
answered as a visitor who never logged in (home page anonymous, the todo
forms hidden, the admin asking to log in), never with a 500.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.fernet import Fernet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yarl import URL

from portal.apps.polls.queries import Question, create_question
from portal.platform.auth import current as session_module
from portal.platform.auth.users import User
from portal.platform.sessions.storage import derive_key
from portal.settings import Settings
from portal.testing import TEST_SECRET, Client, MakeClient, log_in

COOKIE = Settings().session_cookie_name

#: One client and its database serve every example of a property.
PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def fernet() -> Fernet:
    """The site's session cipher, as the test settings key it."""
    return Fernet(base64.urlsafe_b64encode(derive_key(TEST_SECRET, "session")))


def cookie_of(client: Client) -> str:
    """The session cookie the client holds."""
    for morsel in client.session.cookie_jar:
        if morsel.key == COOKIE:
            return morsel.value
    raise AssertionError("the client holds no session cookie")


async def staff_cookie(client: Client, staff_user: User) -> str:
    """A real session cookie of a logged-in staff user, checked to open the admin."""
    assert (await log_in(client, staff_user.username)).status == 303
    assert (await client.get("/admin/", allow_redirects=False)).status == 200
    return cookie_of(client)


async def get_with(client: Client, cookie: str, path: str) -> Any:
    """GET *path* presenting *cookie* as the session, and no other cookie."""
    client.session.cookie_jar.clear()
    return await client.get(path, headers={"Cookie": f"{COOKIE}={cookie}"}, allow_redirects=False)


async def how_it_is_treated(client: Client, cookie: str) -> list[str]:
    """Every way the site failed to treat *cookie* as anonymous (empty when it did)."""
    problems = []
    home = await get_with(client, cookie, "/")
    if home.status != 200 or "You are not logged in" not in await home.text():
        problems.append(f"home: {home.status}")
    todos = await get_with(client, cookie, "/todos/")
    if todos.status != 200 or "Log in to add or change todos" not in await todos.text():
        problems.append(f"todos: {todos.status}")
    admin = await get_with(client, cookie, "/admin/")
    if admin.status != 303 or URL(admin.headers.get("Location", "")).path != "/login":
        problems.append(f"admin: {admin.status}")
    return problems


def flip(text: str, index: int) -> str:
    """*text* with the base64 character at *index* changed to another."""
    replacement = "B" if text[index] == "A" else "A"
    return text[:index] + replacement + text[index + 1 :]


#: Ways a client might alter a cookie it was given.
TAMPERINGS: dict[str, Callable[[str], str]] = {
    "a character flipped in the middle": lambda c: flip(c, len(c) // 2),
    "the first character flipped": lambda c: flip(c, 0),
    "the last character flipped": lambda c: flip(c.rstrip("="), len(c.rstrip("=")) - 1),
    "the last character cut": lambda c: c[:-1],
    "cut in half": lambda c: c[: len(c) // 2],
    "a character appended": lambda c: c + "A",
    "doubled": lambda c: c + c,
    "upper-cased": str.upper,
    "its signature zeroed": lambda c: base64.urlsafe_b64encode(
        base64.urlsafe_b64decode(c)[:-32] + bytes(32)
    ).decode(),
    "its version byte changed": lambda c: base64.urlsafe_b64encode(
        b"\x81" + base64.urlsafe_b64decode(c)[1:]
    ).decode(),
}


async def test_a_tampered_staff_cookie_is_anonymous(client: Client, staff_user: User) -> None:
    original = await staff_cookie(client, staff_user)
    wrong = {}
    for name, tamper in TAMPERINGS.items():
        cookie = tamper(original)
        assert cookie != original, name
        problems = await how_it_is_treated(client, cookie)
        if problems:
            wrong[name] = problems

    assert not wrong


#: aiohttp's limit on one header line, in bytes.
_HEADER_LIMIT = 8190

#: Values no version of the site ever wrote.
GARBAGE = {
    "empty": "",
    "not base64": "!!not*base64~~",
    "percent escapes": "%00%ff%2e%2e",
    "quoted": '"abc"',
    "unicode": "é" * 20,
    "a JSON object": '{"_auth.user_id":1}',
    "4 KB, what a browser keeps at most": "A" * 4096,
    # The longest a header line may be is 8190 bytes, "portal_session=" included.
    "as long as a header may be": "A" * (_HEADER_LIMIT - len(COOKIE) - 1),
    "as long, of random base64": base64.urlsafe_b64encode(bytes(range(256)) * 32).decode()[
        : _HEADER_LIMIT - len(COOKIE) - 1
    ],
}


@pytest.mark.parametrize("value", GARBAGE.values(), ids=list(GARBAGE))
async def test_a_garbage_cookie_is_anonymous(client: Client, value: str) -> None:
    assert await how_it_is_treated(client, value) == []


@pytest.mark.parametrize("size", [8 * 1024, 100 * 1024], ids=["8 KB", "100 KB"])
async def test_a_cookie_longer_than_a_header_may_be_is_a_400(client: Client, size: int) -> None:
    # Refused by the HTTP parser before any session code runs; never a 500.
    response = await get_with(client, "A" * size, "/")

    assert response.status == 400


_COOKIE_TEXT = st.text(
    # What a Cookie header can carry in a value (no separators, controls or spaces).
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=';,"\\'),
    max_size=300,
)
_BASE64 = st.binary(min_size=1, max_size=600).map(lambda b: base64.urlsafe_b64encode(b).decode())


@PROPERTY
@given(cookie=st.one_of(_COOKIE_TEXT, _BASE64))
async def test_any_cookie_value_the_site_did_not_issue_is_anonymous(
    client: Client, cookie: str
) -> None:
    assert await how_it_is_treated(client, cookie) == []


_SCALAR = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
_JSON = st.recursive(
    _SCALAR,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=15), inner),
    max_leaves=12,
)
#: A value of a key the platform reads: mostly of a plain JSON type, maybe the expected one.
_VALUE = st.one_of(_SCALAR, _JSON)
#: What a session cookie holds, with values of any JSON type where the platform keeps its own.
_SESSION_CONTENT = st.one_of(
    _JSON,
    st.fixed_dictionaries({"created": _VALUE, "session": _JSON}),
    st.fixed_dictionaries(
        {
            # Recent enough that aiohttp-session does not discard the content unread.
            "created": st.integers(0, 3600).map(lambda ago: int(time.time()) - ago),
            "session": st.fixed_dictionaries(
                {},
                optional={
                    "_auth.user_id": _VALUE,
                    "_auth.version": _VALUE,
                    "_auth.login_at": _VALUE,
                    "_auth.seen_at": _VALUE,
                    "_csrf": _VALUE,
                    "_flash": _VALUE,
                    "_sid": _VALUE,
                    "polls.voted": _VALUE,
                    "admin.new_secret": _VALUE,
                },
            ),
        }
    ),
)


@pytest.fixture
async def question(conn: Any) -> Question:
    return await create_question(conn, "Sealed?", ["Yes"])


@PROPERTY
@given(content=_SESSION_CONTENT)
async def test_a_cookie_sealed_with_the_key_but_of_any_content_is_never_a_500(
    client: Client, user: User, question: Question, content: Any
) -> None:
    # Not something a client can forge; something an older version (or a bug)
    # might have written. A user exists, so a user id in it is looked up.
    cookie = fernet().encrypt(json.dumps(content).encode()).decode()

    for path in ("/", "/todos/", "/admin/", f"/polls/{question.id}/results"):
        response = await get_with(client, cookie, path)
        assert response.status in (200, 303), path


class Clock:
    """The sessions' clock, moved by hand."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


async def test_a_login_past_its_lifetime_is_anonymous(
    make_client: MakeClient,
    settings: Settings,
    staff_user: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No idle timeout, so only the lifetime can end this login.
    client = await make_client(dataclasses.replace(settings, staff_idle_timeout=0))
    clock = Clock()
    monkeypatch.setattr(session_module, "_now", clock)
    cookie = await staff_cookie(client, staff_user)
    clock.now += settings.session_lifetime - 60
    assert (await get_with(client, cookie, "/admin/")).status == 200

    clock.now += 61

    assert await how_it_is_treated(client, cookie) == []


async def test_a_cookie_older_than_its_max_age_is_anonymous(
    client: Client, settings: Settings, staff_user: User
) -> None:
    cookie = await staff_cookie(client, staff_user)
    content = fernet().decrypt(cookie.encode())
    issued = int(time.time()) - settings.session_max_age - 60
    stale = fernet().encrypt_at_time(content, issued).decode()
    # The same content sealed now still opens the admin: only the age differs.
    fresh = fernet().encrypt(content).decode()
    assert (await get_with(client, fresh, "/admin/")).status == 200

    assert await how_it_is_treated(client, stale) == []
