"""The account commands: ``changepassword`` (which ends the user's sessions) and ``createuser``.

The commands run their own event loop: async tests run them in a thread.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

import psycopg2
import pytest

from portal import cli
from portal.platform.auth.tokens import create_token
from portal.platform.auth.users import User
from portal.testing import PASSWORD, Client, MakeClient, log_in

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, clean_db: str) -> str:
    """The environment of a CLI run against the clean test database."""
    for name in ("PORTAL_CONFIG", "PORTAL_DEBUG", "PORTAL_SECRET_KEY", "PORTAL_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORTAL_DATABASE_URL", clean_db)
    return clean_db


def run(monkeypatch: pytest.MonkeyPatch, stdin: str, *argv: str) -> int:
    """``python -m portal ARGV`` in this process, *stdin* as its standard input."""
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return cli.main(list(argv))


def changepassword(monkeypatch: pytest.MonkeyPatch, username: str, password: str) -> int:
    return run(monkeypatch, password + "\n", "changepassword", username, "--password-stdin")


async def is_logged_in(client: Client) -> bool:
    return "You are logged in as" in await (await client.get("/")).text()


def is_staff(url: str, username: str) -> bool | None:
    """Whether *username* is staff; None when there is no such user."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT is_staff FROM users WHERE username = %s", (username,))
            row = cur.fetchone()
    finally:
        conn.close()
    return None if row is None else bool(row[0])


async def test_changepassword_ends_the_users_logged_in_session(
    monkeypatch: pytest.MonkeyPatch, cli_env: str, client: Client, user: User
) -> None:
    assert (await log_in(client, user.username)).status == 303
    assert await is_logged_in(client)

    status = await asyncio.to_thread(changepassword, monkeypatch, user.username, NEW_PASSWORD)

    assert status == 0
    assert not await is_logged_in(client)


async def test_after_changepassword_only_the_new_password_logs_in(
    monkeypatch: pytest.MonkeyPatch, cli_env: str, make_client: MakeClient, user: User
) -> None:
    assert await asyncio.to_thread(changepassword, monkeypatch, user.username, NEW_PASSWORD) == 0
    old, new = await make_client(), await make_client()

    await log_in(old, user.username, PASSWORD)
    await log_in(new, user.username, NEW_PASSWORD)

    assert not await is_logged_in(old)
    assert await is_logged_in(new)


async def test_changepassword_leaves_the_users_api_tokens_working(
    monkeypatch: pytest.MonkeyPatch, cli_env: str, client: Client, user: User, conn: Any
) -> None:
    _, token = await create_token(conn, user.id, "script")

    assert await asyncio.to_thread(changepassword, monkeypatch, user.username, NEW_PASSWORD) == 0

    response = await client.post(
        "/api/todos/", json={"name": "still allowed"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status == 201


def test_changepassword_of_an_unknown_user_is_one_line_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, cli_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # No --password-stdin and no terminal: the user is looked up before any prompt.
    status = run(monkeypatch, "", "changepassword", "nobody")

    assert status == 1
    assert capsys.readouterr().err == "error: no user named 'nobody'\n"


async def test_changepassword_refuses_a_short_password_and_keeps_the_old_one(
    monkeypatch: pytest.MonkeyPatch,
    cli_env: str,
    client: Client,
    user: User,
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = await asyncio.to_thread(changepassword, monkeypatch, user.username, "short")

    assert status == 1
    assert "password must be at least 8 characters" in capsys.readouterr().err
    await log_in(client, user.username, PASSWORD)
    assert await is_logged_in(client)


# createuser shares createsuperuser's code (tests/platform/test_auth.py covers that one).


def test_createuser_creates_a_user_who_is_not_staff(
    monkeypatch: pytest.MonkeyPatch, cli_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = run(monkeypatch, PASSWORD + "\n", "createuser", "bob", "--password-stdin")

    assert status == 0
    assert is_staff(cli_env, "bob") is False
    assert "User 'bob' created." in capsys.readouterr().out


def test_createuser_with_staff_creates_a_staff_user(
    monkeypatch: pytest.MonkeyPatch, cli_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = run(monkeypatch, PASSWORD + "\n", "createuser", "carol", "--staff", "--password-stdin")

    assert status == 0
    assert is_staff(cli_env, "carol") is True
    assert "Staff user 'carol' created." in capsys.readouterr().out


def test_createuser_refuses_a_taken_username(
    monkeypatch: pytest.MonkeyPatch, cli_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, PASSWORD + "\n", "createuser", "bob", "--password-stdin") == 0
    capsys.readouterr()

    status = run(monkeypatch, PASSWORD + "\n", "createuser", "bob", "--password-stdin")

    assert status == 1
    assert capsys.readouterr().err == "error: a user named 'bob' already exists\n"


async def test_a_user_from_createuser_logs_in(
    monkeypatch: pytest.MonkeyPatch, cli_env: str, client: Client
) -> None:
    argv = ("createuser", "dave", "--password-stdin")
    assert await asyncio.to_thread(run, monkeypatch, PASSWORD + "\n", *argv) == 0

    assert (await log_in(client, "dave")).status == 303
    assert await is_logged_in(client)
