"""Login, logout and ``createsuperuser``: the session login every app shares."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import threading
from typing import Any

import psycopg2
import pytest
import sqlalchemy as sa

from portal import cli
from portal.platform.auth import current as session_module
from portal.platform.auth import passwords
from portal.platform.auth.passwords import verify_password
from portal.platform.auth.tables import users
from portal.platform.auth.users import User
from portal.settings import Settings
from portal.testing import PASSWORD, Client, MakeClient, csrf_token, log_in
from tests.platform.test_sessions import COOKIE, decrypt, session_cookie

LOGIN_ERROR = "Please enter a correct username and password."


async def post_login(client: Client, **form: str) -> Any:
    token = await csrf_token(client)
    return await client.post("/login", data={"csrf_token": token, **form}, allow_redirects=False)


async def is_logged_in(client: Client) -> bool:
    body = await (await client.get("/")).text()
    return "You are logged in as" in body


async def test_login_page_renders_the_form(client: Client) -> None:
    response = await client.get("/login?next=/polls/")

    body = await response.text()
    assert response.status == 200
    assert 'name="username"' in body
    assert 'name="next" value="/polls/"' in body


async def test_login_redirects_home_by_default(client: Client, user: User) -> None:
    response = await log_in(client, "alice")

    assert response.status == 303
    assert response.headers["Location"] == "/"


async def test_login_redirects_to_a_safe_next(client: Client, user: User) -> None:
    response = await post_login(client, username="alice", password=PASSWORD, next="/polls/?p=2")

    assert response.status == 303
    assert response.headers["Location"] == "/polls/?p=2"


async def test_login_flashes_a_welcome(client: Client, user: User) -> None:
    await log_in(client, "alice")

    body = await (await client.get("/")).text()

    assert "Welcome, alice." in body
    assert "You are logged in as <strong>alice</strong>" in body


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "http://evil.example/",
        "https://evil.example/path",
        "/\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "evil.example",
    ],
)
async def test_login_never_redirects_off_site(client: Client, user: User, target: str) -> None:
    response = await post_login(client, username="alice", password=PASSWORD, next=target)

    assert response.status == 303
    assert response.headers["Location"] == "/"


async def test_next_with_a_line_break_injects_no_header(client: Client, user: User) -> None:
    response = await post_login(
        client, username="alice", password=PASSWORD, next="/polls/\r\nX-Evil: 1"
    )

    assert response.status == 303
    assert "X-Evil" not in response.headers
    assert response.headers["Location"].startswith("/polls/")


async def test_wrong_password_is_refused_and_keeps_the_username(client: Client, user: User) -> None:
    response = await post_login(client, username="alice", password="not the password")

    body = await response.text()
    assert response.status == 400
    assert LOGIN_ERROR in body
    assert 'name="username" value="alice"' in body
    assert not await is_logged_in(client)


async def test_unknown_user_gets_the_same_answer_as_a_wrong_password(client: Client) -> None:
    response = await post_login(client, username="mallory", password=PASSWORD)

    body = await response.text()
    assert response.status == 400
    assert LOGIN_ERROR in body
    assert 'name="username" value="mallory"' in body


async def test_refused_login_keeps_next(client: Client) -> None:
    response = await post_login(client, username="mallory", password=PASSWORD, next="/polls/")

    assert 'name="next" value="/polls/"' in await response.text()


async def test_inactive_user_cannot_log_in(client: Client, conn: Any, user: User) -> None:
    await conn.execute("UPDATE users SET is_active = false WHERE id = %s", (user.id,))

    response = await log_in(client, "alice")

    assert response.status == 400
    assert LOGIN_ERROR in await response.text()


async def test_deactivated_user_is_logged_out(client: Client, conn: Any, user: User) -> None:
    await log_in(client, "alice")
    await conn.execute("UPDATE users SET is_active = false WHERE id = %s", (user.id,))

    assert not await is_logged_in(client)


async def test_login_records_last_login(client: Client, conn: Any, user: User) -> None:
    await log_in(client, "alice")

    last_login = await conn.scalar("SELECT last_login FROM users WHERE id = %s", (user.id,))

    assert last_login is not None


async def test_login_starts_a_new_session(client: Client, user: User) -> None:
    await csrf_token(client)
    before = decrypt(session_cookie(client))["session"]
    await log_in(client, "alice")

    after = decrypt(session_cookie(client))["session"]

    assert "_auth.user_id" not in before
    assert after["_auth.user_id"] == user.id
    assert after.get("_csrf") != before["_csrf"]
    assert after["_sid"] != before.get("_sid")


async def test_each_login_gets_its_own_session_id(client: Client, user: User) -> None:
    await log_in(client, "alice")
    first = decrypt(session_cookie(client))["session"]["_sid"]
    await log_in(client, "alice")

    assert decrypt(session_cookie(client))["session"]["_sid"] != first


async def test_cookie_captured_before_login_stays_anonymous(
    client: Client, make_client: MakeClient, user: User
) -> None:
    await csrf_token(client)
    captured = session_cookie(client)
    await log_in(client, "alice")
    assert await is_logged_in(client)
    attacker = await make_client()
    attacker.session.cookie_jar.update_cookies(
        {COOKIE: captured}, response_url=attacker.make_url("/")
    )

    assert not await is_logged_in(attacker)


async def test_logout_ends_the_session(client: Client, user: User) -> None:
    await log_in(client, "alice")
    token = await csrf_token(client)

    response = await client.post("/logout", data={"csrf_token": token}, allow_redirects=False)

    assert response.status == 303
    assert response.headers["Location"] == "/"
    assert not await is_logged_in(client)


async def _copy_of_session(client: Client, make_client: MakeClient) -> Client:
    """Another client holding a copy of *client*'s session cookie, as a thief would."""
    thief = await make_client()
    thief.session.cookie_jar.update_cookies(
        {COOKIE: session_cookie(client)}, response_url=thief.make_url("/")
    )
    return thief


async def test_a_copied_cookie_is_logged_in_until_logout(
    client: Client, make_client: MakeClient, user: User
) -> None:
    await log_in(client, "alice")

    assert await is_logged_in(await _copy_of_session(client, make_client))


async def test_logout_ends_a_copy_of_the_cookie_taken_before(
    client: Client, make_client: MakeClient, user: User
) -> None:
    await log_in(client, "alice")
    thief = await _copy_of_session(client, make_client)
    token = await csrf_token(client)

    await client.post("/logout", data={"csrf_token": token})

    assert not await is_logged_in(thief)


async def test_logout_ends_the_users_sessions_on_other_devices(
    client: Client, make_client: MakeClient, user: User
) -> None:
    other = await make_client()
    await log_in(other, "alice")
    await log_in(client, "alice")
    token = await csrf_token(client)

    await client.post("/logout", data={"csrf_token": token})

    assert not await is_logged_in(other)


async def test_a_new_password_ends_every_session(
    client: Client, make_client: MakeClient, conn: Any, user: User
) -> None:
    await log_in(client, "alice")
    thief = await _copy_of_session(client, make_client)

    await conn.execute("UPDATE users SET password_hash = 'changed' WHERE id = %s", (user.id,))

    assert not await is_logged_in(client)
    assert not await is_logged_in(thief)


async def test_deactivating_ends_sessions_for_good_even_after_reactivation(
    client: Client, conn: Any, user: User
) -> None:
    await log_in(client, "alice")

    await conn.execute("UPDATE users SET is_active = false WHERE id = %s", (user.id,))
    await conn.execute("UPDATE users SET is_active = true WHERE id = %s", (user.id,))

    assert not await is_logged_in(client)


async def test_other_changes_to_the_user_keep_the_session(
    client: Client, conn: Any, user: User
) -> None:
    await log_in(client, "alice")

    await conn.execute("UPDATE users SET is_staff = true WHERE id = %s", (user.id,))

    assert await is_logged_in(client)


async def test_logout_flashes_a_goodbye(client: Client, user: User) -> None:
    await log_in(client, "alice")
    token = await csrf_token(client)

    response = await client.post("/logout", data={"csrf_token": token})

    assert "You have logged out." in await response.text()


async def test_get_logout_is_405_html(client: Client, user: User) -> None:
    await log_in(client, "alice")

    response = await client.get("/logout")

    assert response.status == 405
    assert response.content_type == "text/html"
    assert "POST" in response.headers["Allow"]
    assert '<nav class="site-nav"' in await response.text()
    assert await is_logged_in(client)


# createsuperuser runs its own event loop, so these tests are synchronous.


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, clean_db: str) -> str:
    """The environment of a CLI run against the clean test database."""
    for name in ("PORTAL_CONFIG", "PORTAL_DEBUG", "PORTAL_SECRET_KEY", "PORTAL_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORTAL_DATABASE_URL", clean_db)
    return clean_db


def createsuperuser(monkeypatch: pytest.MonkeyPatch, username: str, password: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return cli.main(["createsuperuser", "--username", username, "--password-stdin"])


def stored_user(url: str, username: str) -> tuple[str, bool, bool] | None:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT password_hash, is_staff, is_active FROM users WHERE username = %s",
                (username,),
            )
            row = cur.fetchone()
    finally:
        conn.close()
    return None if row is None else (str(row[0]), bool(row[1]), bool(row[2]))


def test_createsuperuser_creates_a_staff_user(
    monkeypatch: pytest.MonkeyPatch, cli_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert createsuperuser(monkeypatch, "root", PASSWORD) == 0

    stored = stored_user(cli_env, "root")
    assert stored is not None
    password_hash, is_staff, is_active = stored
    assert is_staff
    assert is_active
    assert asyncio.run(verify_password(password_hash, PASSWORD))
    assert not asyncio.run(verify_password(password_hash, "wrong password"))
    assert "Staff user 'root' created." in capsys.readouterr().out


async def test_superuser_from_the_cli_can_log_in(
    monkeypatch: pytest.MonkeyPatch, cli_env: str, make_client: MakeClient
) -> None:
    # The command runs its own event loop: run it in a thread beside ours.
    status = await asyncio.to_thread(createsuperuser, monkeypatch, "root", PASSWORD)
    assert status == 0
    client = await make_client()

    response = await log_in(client, "root")

    assert response.status == 303
    assert '<span class="who">root (staff)</span>' in await (await client.get("/")).text()


def test_createsuperuser_refuses_a_taken_username(
    monkeypatch: pytest.MonkeyPatch, cli_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert createsuperuser(monkeypatch, "root", PASSWORD) == 0
    capsys.readouterr()

    status = createsuperuser(monkeypatch, "root", "another long password")

    assert status == 1
    assert "a user named 'root' already exists" in capsys.readouterr().err


def test_createsuperuser_refuses_a_short_password(
    monkeypatch: pytest.MonkeyPatch, cli_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = createsuperuser(monkeypatch, "root", "short")

    assert status == 1
    assert "password must be at least 8 characters" in capsys.readouterr().err
    assert stored_user(cli_env, "root") is None


def test_createsuperuser_without_a_terminal_asks_for_password_stdin(
    monkeypatch: pytest.MonkeyPatch, cli_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    status = cli.main(["createsuperuser", "--username", "root"])

    assert status == 1
    assert "--password-stdin" in capsys.readouterr().err


class Clock:
    """The sessions' clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(session_module, "_now", clock)
    return clock


async def test_a_login_ends_after_its_lifetime_however_active(
    client: Client, user: User, clock: Clock
) -> None:
    await log_in(client, "alice")
    for _ in range(12):
        clock.now += 3600 - 1
        assert await is_logged_in(client)

    clock.now += 13

    assert not await is_logged_in(client)


async def test_a_staff_login_ends_after_30_idle_minutes(
    client: Client, staff_user: User, clock: Clock
) -> None:
    await log_in(client, staff_user.username)
    clock.now += 29 * 60
    assert await is_logged_in(client)

    clock.now += 31 * 60

    assert not await is_logged_in(client)


async def test_use_keeps_a_staff_login_alive(
    client: Client, staff_user: User, clock: Clock
) -> None:
    await log_in(client, staff_user.username)
    for _ in range(4):
        clock.now += 20 * 60
        assert await is_logged_in(client)


async def test_other_users_have_no_idle_timeout_by_default(
    client: Client, user: User, clock: Clock
) -> None:
    await log_in(client, "alice")

    clock.now += 6 * 3600

    assert await is_logged_in(client)


async def test_the_idle_timeout_of_other_users_comes_from_settings(
    make_client: MakeClient, settings: Settings, user: User, clock: Clock
) -> None:
    client = await make_client(dataclasses.replace(settings, user_idle_timeout=600))
    await log_in(client, "alice")

    clock.now += 601

    assert not await is_logged_in(client)


async def test_twenty_concurrent_logins_hash_off_the_event_loop(
    client: Client, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The test client serves the site on this loop's thread: a hash computed
    # there would stall every other request for its whole duration. (Timing
    # the gaps between ticks says the same but flakes on a loaded machine.)
    hashing_threads: list[int] = []
    real_hasher = passwords.hasher

    class Spy:
        def __init__(self) -> None:
            self._real = real_hasher()

        def hash(self, password: str) -> str:
            hashing_threads.append(threading.get_ident())
            return self._real.hash(password)

        def verify(self, password_hash: str, password: str) -> bool:
            hashing_threads.append(threading.get_ident())
            return self._real.verify(password_hash, password)

    monkeypatch.setattr(passwords, "hasher", Spy)
    token = await csrf_token(client)
    form = {"username": "alice", "password": PASSWORD, "csrf_token": token}

    responses = await asyncio.gather(
        *(client.post("/login", data=form, allow_redirects=False) for _ in range(20))
    )

    assert [response.status for response in responses] == [303] * 20
    assert len(hashing_threads) >= 20
    assert threading.get_ident() not in hashing_threads


@pytest.mark.usefixtures("real_password_hashing")
async def test_twenty_logins_at_once_leave_the_pool_to_the_other_pages(
    make_client: MakeClient, settings: Settings, conn: Any, user: User
) -> None:
    # A small pool and a short wait for it: a login holding its connection
    # through the argon2 check would keep /polls/ waiting past the timeout (503).
    client = await make_client(settings.with_overrides(db_pool_max=4, db_acquire_timeout=1.0))
    password_hash = await conn.scalar(sa.select(users.c.password_hash))
    await conn.execute(
        users.insert().values(
            [{"username": f"user{n}", "password_hash": password_hash} for n in range(19)]
        )
    )
    names = ["alice", *(f"user{n}" for n in range(19))]
    token = await csrf_token(client)
    logins_done = asyncio.Event()
    seen: list[tuple[str, int]] = []

    async def browse() -> None:
        while not logins_done.is_set():
            for path in ("/polls/", "/healthz"):
                response = await client.get(path, allow_redirects=False)
                seen.append((path, response.status))

    async def logins() -> list[int]:
        try:
            responses = await asyncio.gather(
                *(
                    client.post(
                        "/login",
                        data={"username": name, "password": PASSWORD, "csrf_token": token},
                        allow_redirects=False,
                    )
                    for name in names
                )
            )
        finally:
            logins_done.set()
        return [response.status for response in responses]

    statuses, _ = await asyncio.gather(logins(), browse())

    assert statuses == [303] * 20
    assert {path for path, _ in seen} == {"/polls/", "/healthz"}
    assert [(path, status) for path, status in seen if status != 200] == []
