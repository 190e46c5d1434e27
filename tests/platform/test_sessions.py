"""The shared encrypted cookie session: flags, tampering, sharing between apps."""

from __future__ import annotations

import base64
import dataclasses
import html
import json
import re
from typing import Any

from aiohttp_session import Session
from cryptography.fernet import Fernet

from portal.apps.polls.queries import create_question, get_choices
from portal.apps.polls.views import REMEMBERED_VOTES
from portal.platform.auth.users import User, create_user
from portal.platform.sessions.storage import AppSession, derive_key
from portal.settings import Settings
from portal.testing import PASSWORD, TEST_SECRET, Client, MakeClient, csrf_token, log_in

COOKIE = "portal_session"
OTHER_SECRET = "another-secret-key-that-is-long-enough-9876543210"


def session_cookie(client: Client) -> str:
    """The value of the session cookie the client holds."""
    for morsel in client.session.cookie_jar:
        if morsel.key == COOKIE:
            return morsel.value
    raise AssertionError("the client holds no session cookie")


def replace_session_cookie(client: Client, value: str) -> None:
    """Make the client present *value* as its session cookie, and nothing else."""
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({COOKIE: value}, response_url=client.make_url("/"))


def decrypt(cookie: str, secret: str = TEST_SECRET) -> dict[str, Any]:
    """What the platform stored in an encrypted session cookie."""
    fernet = Fernet(base64.urlsafe_b64encode(derive_key(secret, "session")))
    data: dict[str, Any] = json.loads(fernet.decrypt(cookie.encode()))
    return data


async def test_session_cookie_is_httponly_and_samesite_lax(client: Client) -> None:
    response = await client.get("/login")

    header = response.headers["Set-Cookie"]
    assert header.startswith(f"{COOKIE}=")
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Secure" not in header


async def test_session_cookie_is_secure_when_configured(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await make_client(dataclasses.replace(settings, session_cookie_secure=True))

    response = await client.get("/login")

    assert "Secure" in response.headers["Set-Cookie"]


async def test_page_without_session_use_sets_no_cookie(client: Client) -> None:
    response = await client.get("/healthz")

    assert "Set-Cookie" not in response.headers


async def test_session_cookie_is_encrypted(client: Client) -> None:
    token = await csrf_token(client)

    cookie = session_cookie(client)

    assert token not in cookie
    assert decrypt(cookie)["session"]["_csrf"] == token


async def test_tampered_cookie_gives_a_fresh_session(client: Client) -> None:
    old_token = await csrf_token(client)
    cookie = session_cookie(client)
    replace_session_cookie(client, cookie[:-6] + ("A" if cookie[-6] != "A" else "B") + cookie[-5:])

    response = await client.get("/login")

    assert response.status == 200
    assert old_token not in await response.text()


async def test_garbage_cookie_gives_a_fresh_session(client: Client) -> None:
    replace_session_cookie(client, "not-a-session-at-all")

    response = await client.get("/")

    assert response.status == 200
    assert "You are not logged in" in await response.text()


async def test_cookie_from_another_secret_gives_a_fresh_session(
    make_client: MakeClient, settings: Settings, user: User
) -> None:
    other = await make_client(dataclasses.replace(settings, secret_key=OTHER_SECRET))
    assert (await log_in(other, "alice")).status == 303
    foreign = session_cookie(other)
    client = await make_client()
    replace_session_cookie(client, foreign)

    response = await client.get("/")

    assert response.status == 200
    assert "You are not logged in" in await response.text()


async def test_cookie_with_foreign_content_gives_a_fresh_session(client: Client) -> None:
    # Encrypted with our key, but not a session we wrote.
    fernet = Fernet(base64.urlsafe_b64encode(derive_key(TEST_SECRET, "session")))
    replace_session_cookie(client, fernet.encrypt(b"[1, 2, 3]").decode())

    response = await client.get("/")

    assert response.status == 200


async def test_login_in_the_root_is_seen_by_polls(client: Client, user: User) -> None:
    await log_in(client, "alice")

    response = await client.get("/polls/")

    assert response.status == 200
    assert '<span class="who">alice</span>' in await response.text()


async def test_flash_set_by_a_polls_vote_shows_on_the_home_page(client: Client, conn: Any) -> None:
    question = await create_question(conn, "Tea or coffee?", ["Tea", "Coffee"])
    tea = (await get_choices(conn, question.id))[0]
    token = await csrf_token(client, f"/polls/{question.id}/")
    vote = await client.post(
        f"/polls/{question.id}/vote",
        data={"choice": str(tea.id), "csrf_token": token},
        allow_redirects=False,
    )
    assert vote.status == 303

    home = await client.get("/")

    assert "Your vote for “Tea” was counted." in await home.text()


async def test_flash_is_shown_only_once(client: Client, user: User) -> None:
    await log_in(client, "alice")
    first = await client.get("/")
    assert "Welcome, alice." in await first.text()

    second = await client.get("/")

    assert "Welcome, alice." not in await second.text()


async def test_polls_keeps_its_keys_under_its_namespace(client: Client, conn: Any) -> None:
    question = await create_question(conn, "Tea or coffee?", ["Tea", "Coffee"])
    tea = (await get_choices(conn, question.id))[0]
    token = await csrf_token(client, f"/polls/{question.id}/")
    await client.post(
        f"/polls/{question.id}/vote",
        data={"choice": str(tea.id), "csrf_token": token},
        allow_redirects=False,
    )

    stored = decrypt(session_cookie(client))["session"]

    assert stored["polls.voted"] == [question.id]
    assert "voted" not in stored


def test_app_session_stores_keys_with_the_app_prefix() -> None:
    session = Session(None, data=None, new=True)
    polls = AppSession(session, "polls")

    polls["x"] = 1

    assert session["polls.x"] == 1
    assert "x" not in session


def test_app_session_sees_only_its_own_keys() -> None:
    session = Session(None, data=None, new=True)
    session["todos.x"] = "theirs"
    session["_csrf"] = "platform"
    polls = AppSession(session, "polls")
    polls["x"] = "ours"

    assert dict(polls) == {"x": "ours"}
    assert len(polls) == 1
    assert "y" not in polls


def test_app_session_deletes_only_its_own_key() -> None:
    session = Session(None, data=None, new=True)
    session["todos.x"] = "theirs"
    polls = AppSession(session, "polls")
    polls["x"] = "ours"

    del polls["x"]

    assert dict(session) == {"todos.x": "theirs"}


# Unread flash messages never overflow the cookie

#: Browsers drop a cookie larger than this (name, value and attributes).
COOKIE_LIMIT = 4096
#: The longest texts the forms take, in the characters that take the most
#: room in the session's JSON (twelve bytes each: an escaped surrogate pair).
LONG_NAME = "\U0001f600" * 150
LONG_TODO = "\U0001f4dd" * 255
LONG_CHOICE = "\U0001f5f3" * 200


def set_cookie_sizes(response: Any) -> list[int]:
    return [len(value.encode()) for value in response.headers.getall("Set-Cookie", [])]


def flashes(page: str) -> list[str]:
    """The flash messages a page shows, as a reader sees them."""
    return [
        html.unescape(text) for text in re.findall(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', page)
    ]


async def test_a_hundred_votes_and_adds_unfollowed_keep_the_cookie_small_and_the_login(
    client: Client, conn: Any
) -> None:
    await create_user(conn, LONG_NAME, PASSWORD)
    assert (await log_in(client, LONG_NAME)).status == 303
    token = await csrf_token(client, "/todos/")
    sizes: list[int] = []
    for number in range(100):
        question = await create_question(conn, f"Question {number}?", [LONG_CHOICE])
        (choice,) = await get_choices(conn, question.id)
        voted = await client.post(
            f"/polls/{question.id}/vote",
            data={"choice": str(choice.id), "csrf_token": token},
            allow_redirects=False,
        )
        added = await client.post(
            "/todos/",
            data={"name": f"{number} {LONG_TODO}"[:255], "csrf_token": token},
            allow_redirects=False,
        )
        assert (voted.status, added.status) == (303, 303)
        sizes += set_cookie_sizes(voted) + set_cookie_sizes(added)

    assert sizes
    assert max(sizes) < COOKIE_LIMIT
    page = await (await client.get("/todos/")).text()
    assert f'<span class="who">{html.escape(LONG_NAME)}</span>' in page


async def test_a_repeated_flash_is_shown_once_with_its_count(client: Client, conn: Any) -> None:
    question = await create_question(conn, "Tea or coffee?", ["Tea", "Coffee"])
    tea = (await get_choices(conn, question.id))[0]
    token = await csrf_token(client, f"/polls/{question.id}/")
    for _ in range(3):
        await client.post(
            f"/polls/{question.id}/vote",
            data={"choice": str(tea.id), "csrf_token": token},
            allow_redirects=False,
        )

    shown = flashes(await (await client.get("/")).text())

    assert shown == ["Thanks! Your vote for “Tea” was counted. (\N{MULTIPLICATION SIGN}3)"]


async def test_only_the_newest_unread_flashes_are_kept(client: Client, user: User) -> None:
    await log_in(client, user.username)
    await client.get("/")  # the welcome message, read
    token = await csrf_token(client, "/todos/")
    for number in range(1, 8):
        await client.post(
            "/todos/", data={"name": f"T{number}", "csrf_token": token}, allow_redirects=False
        )

    shown = flashes(await (await client.get("/")).text())

    assert shown == [f"Added “T{number}”." for number in range(3, 8)]


async def test_a_long_flash_is_cut_short(client: Client, user: User) -> None:
    await log_in(client, user.username)
    await client.get("/")
    token = await csrf_token(client, "/todos/")
    await client.post(
        "/todos/", data={"name": LONG_TODO, "csrf_token": token}, allow_redirects=False
    )

    (shown,) = flashes(await (await client.get("/")).text())

    assert shown.startswith("Added “\U0001f4dd")
    assert shown.endswith("\U0001f4dd…")
    assert len(shown) < len(LONG_TODO)


async def test_the_session_remembers_only_the_latest_questions_voted_on(
    client: Client, conn: Any
) -> None:
    token = await csrf_token(client)
    asked = []
    for number in range(REMEMBERED_VOTES + 10):
        question = await create_question(conn, f"Question {number}?", ["Yes"])
        (choice,) = await get_choices(conn, question.id)
        await client.post(
            f"/polls/{question.id}/vote",
            data={"choice": str(choice.id), "csrf_token": token},
            allow_redirects=False,
        )
        asked.append(question.id)

    stored = decrypt(session_cookie(client))["session"]

    assert stored["polls.voted"] == asked[-REMEMBERED_VOTES:]
