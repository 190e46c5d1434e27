"""Login throttling: 10 failures for one account from one address in 15 minutes, 30 from
one address whatever the accounts, 100 for one account from every address; then 429."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from portal.platform.auth import views as auth_views
from portal.platform.auth.passwords import verify_password
from portal.platform.auth.tables import login_failures, users
from portal.platform.auth.throttle import address_key
from portal.platform.auth.users import User
from portal.settings import Settings
from portal.testing import PASSWORD, Client, MakeClient, csrf_token
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


# Per address, behind a trusted proxy that reports the client in X-Forwarded-For

STRANGER = "198.51.100.7"
OWNER = "203.0.113.20"


@pytest.fixture
async def proxied(make_client: MakeClient, settings: Settings) -> Client:
    """A client reaching the site through a trusted proxy (the test client's 127.0.0.1)."""
    return await make_client(settings.with_overrides(trusted_proxies=("127.0.0.1",)))


async def attempt_from(client: Client, address: str, username: str, password: str) -> Any:
    """A login the trusted proxy reports as coming from *address*."""
    token = await csrf_token(client)
    return await client.post(
        "/login",
        data={"csrf_token": token, "username": username, "password": password},
        headers={"X-Forwarded-For": address},
        allow_redirects=False,
    )


async def fail_from(client: Client, address: str, username: str, times: int) -> None:
    for _ in range(times):
        assert (await attempt_from(client, address, username, WRONG)).status == 400


async def test_a_strangers_failures_do_not_lock_the_owner_out(proxied: Client, user: User) -> None:
    await fail_from(proxied, STRANGER, "alice", 10)

    stranger = await attempt_from(proxied, STRANGER, "alice", PASSWORD)
    owner = await attempt_from(proxied, OWNER, "alice", PASSWORD)

    assert stranger.status == 429
    assert 0 < int(stranger.headers["Retry-After"]) <= 15 * 60
    assert owner.status == 303


async def test_one_address_trying_forty_accounts_is_refused_after_thirty(
    proxied: Client,
) -> None:
    statuses = [
        (await attempt_from(proxied, STRANGER, f"user{n}", WRONG)).status for n in range(40)
    ]
    refused = await attempt_from(proxied, STRANGER, "user99", WRONG)
    elsewhere = await attempt_from(proxied, OWNER, "user99", WRONG)

    assert statuses == [400] * 30 + [429] * 10
    assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60
    assert elsewhere.status == 400


async def test_concurrent_guesses_from_one_address_get_no_more_checks_than_its_limit(
    proxied: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    verify = verify_password

    async def counting(password_hash: str | None, password: str) -> bool:
        checked.append(password)
        return await verify(password_hash, password)

    monkeypatch.setattr(auth_views, "verify_password", counting)

    responses = await asyncio.gather(
        *(attempt_from(proxied, STRANGER, f"user{n}", WRONG) for n in range(40))
    )

    assert sorted(r.status for r in responses) == [400] * 30 + [429] * 10
    assert len(checked) == 30


async def arrange_failures(conn: Any, account: str, addresses: list[str]) -> None:
    """Failures of *account*, one from each of *addresses*, recorded just now."""
    # One multi-row INSERT: aiopg runs no executemany.
    await conn.execute(
        login_failures.insert().values([{"account": account, "address": a} for a in addresses])
    )


async def test_a_hundred_failures_from_anywhere_lock_the_account(
    proxied: Client, conn: Any, user: User
) -> None:
    await arrange_failures(conn, "alice", [f"192.0.2.{n}" for n in range(99)])

    hundredth = await attempt_from(proxied, STRANGER, "alice", WRONG)
    owner = await attempt_from(proxied, OWNER, "alice", PASSWORD)

    assert hundredth.status == 400
    assert owner.status == 429
    assert 0 < int(owner.headers["Retry-After"]) <= 15 * 60


async def test_a_success_clears_only_its_own_addresss_count(proxied: Client, user: User) -> None:
    await fail_from(proxied, STRANGER, "alice", 9)
    assert (await attempt_from(proxied, OWNER, "alice", PASSWORD)).status == 303

    tenth = await attempt_from(proxied, STRANGER, "alice", WRONG)
    eleventh = await attempt_from(proxied, STRANGER, "alice", WRONG)

    assert (tenth.status, eleventh.status) == (400, 429)


async def test_the_limits_come_from_settings(
    make_client: MakeClient, settings: Settings, user: User
) -> None:
    client = await make_client(settings.with_overrides(login_failures_per_account_and_address=2))
    await fail_times(client, "alice", 2)

    assert (await attempt(client, "alice", PASSWORD)).status == 429


async def test_a_login_whose_password_changed_during_the_check_is_refused(
    client: Client, conn: Any, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    verify = verify_password

    async def changed_meanwhile(password_hash: str | None, password: str) -> bool:
        valid = await verify(password_hash, password)
        await conn.execute(users.update().values(password_hash=users.c.password_hash + "x"))
        return valid

    monkeypatch.setattr(auth_views, "verify_password", changed_meanwhile)

    assert (await attempt(client, "alice", PASSWORD)).status == 400


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("2001:DB8::1", "2001:db8::1"),
    ],
)
def test_addresses_of_one_client_count_as_one(one: str, other: str) -> None:
    assert address_key(one) == address_key(other)


def test_neighbouring_ipv6_networks_count_apart() -> None:
    assert address_key("2001:db8:1:2::1") != address_key("2001:db8:1:3::1")
