"""Login throttling: 10 failures for one account in 15 minutes, then 429 for a while."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from portal.platform.auth.users import User
from tests.conftest import PASSWORD, Client, MakeClient, csrf_token
from tests.platform.test_auth import post_login

WRONG = "not-the-password"


async def attempt(client: Client, username: str, password: str) -> Any:
    return await post_login(client, username=username, password=password)


async def fail_times(client: Client, username: str, times: int) -> None:
    for _ in range(times):
        assert (await attempt(client, username, WRONG)).status == 400


async def test_after_ten_failures_even_the_right_password_gets_429(
    client: Client, user: User
) -> None:
    await fail_times(client, "alice", 10)

    response = await attempt(client, "alice", PASSWORD)

    assert response.status == 429
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
    assert "Too many failed attempts" in await response.text()


async def test_nine_failures_still_let_the_right_password_in(client: Client, user: User) -> None:
    await fail_times(client, "alice", 9)

    assert (await attempt(client, "alice", PASSWORD)).status == 303


async def test_a_success_clears_the_accounts_failures(client: Client, user: User) -> None:
    await fail_times(client, "alice", 9)
    assert (await attempt(client, "alice", PASSWORD)).status == 303

    await fail_times(client, "alice", 9)

    assert (await attempt(client, "alice", PASSWORD)).status == 303


async def test_an_unknown_name_is_throttled_like_a_real_one(client: Client) -> None:
    await fail_times(client, "nobody", 10)

    assert (await attempt(client, "nobody", WRONG)).status == 429


async def test_the_throttle_is_per_account_and_ignores_case(client: Client, user: User) -> None:
    await fail_times(client, "ALICE", 10)

    assert (await attempt(client, "alice", PASSWORD)).status == 429
    assert (await attempt(client, "bob", WRONG)).status == 400


async def test_failures_older_than_fifteen_minutes_no_longer_count(
    client: Client, conn: Any, user: User
) -> None:
    await fail_times(client, "alice", 10)

    await conn.execute("UPDATE login_failures SET at = at - interval '15 minutes 1 second'")

    assert (await attempt(client, "alice", PASSWORD)).status == 303


async def test_the_count_is_shared_by_every_client_and_forwarded_for_changes_nothing(
    client: Client, make_client: MakeClient, user: User
) -> None:
    await fail_times(client, "alice", 10)
    other = await make_client()
    token = await csrf_token(other)

    response = await other.post(
        "/login",
        data={"csrf_token": token, "username": "alice", "password": PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.9"},
        allow_redirects=False,
    )

    assert response.status == 429


async def test_concurrent_guesses_cannot_slip_past_the_limit(
    make_client: MakeClient, user: User
) -> None:
    clients = [await make_client() for _ in range(16)]

    statuses = await asyncio.gather(*(attempt(c, "alice", WRONG) for c in clients))

    assert sorted(r.status for r in statuses) == [400] * 10 + [429] * 6


@pytest.mark.parametrize(("password", "outcome"), [(PASSWORD, "succeeded"), (WRONG, "failed")])
async def test_every_attempt_is_logged_without_the_password(
    client: Client, user: User, caplog: pytest.LogCaptureFixture, password: str, outcome: str
) -> None:
    with caplog.at_level(logging.INFO, logger="portal.auth"):
        await attempt(client, "alice", password)

    lines = [r.getMessage() for r in caplog.records if r.name == "portal.auth"]
    assert lines == [f"login {outcome} for 'alice' from 127.0.0.1"]
    assert password not in caplog.text
