"""API rate limits: per token, per client address, staff tokens, the 429 and the draft's headers.

Across two worker processes: ``test_multiprocess.py``.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
import sqlalchemy as sa

from portal.platform.api import endpoints
from portal.platform.api.problems import PROBLEM_TYPE
from portal.platform.auth.tokens import create_token
from portal.platform.auth.users import User
from portal.platform.ratelimit import middleware
from portal.platform.ratelimit.counters import api_rate_counts
from portal.platform.ratelimit.queries import count_request, sweep
from portal.settings import Settings, SettingsError, load_settings
from portal.testing import TEST_SECRET, Client, MakeClient, bearer

LIST = "/api/todos/"


async def limited(make_client: MakeClient, settings: Settings, **changes: Any) -> Client:
    return await make_client(settings.with_overrides(**changes))


async def statuses(client: Client, times: int, path: str = LIST, **kw: Any) -> list[int]:
    found = []
    for _ in range(times):
        response = await client.get(path, **kw)
        found.append(response.status)
    return found


# Counting


async def test_requests_from_one_address_are_limited(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await limited(make_client, settings, api_rate_limit="3/minute")

    assert await statuses(client, 4) == [200, 200, 200, 429]


async def test_each_token_has_its_own_count(
    make_client: MakeClient, settings: Settings, conn: Any, user: User, api_token: str
) -> None:
    _, other_token = await create_token(conn, user.id, "other")
    client = await limited(make_client, settings, api_rate_limit="2/minute")

    spent = await statuses(client, 3, headers=bearer(api_token))
    other = await statuses(client, 2, headers=bearer(other_token))
    anonymous = await statuses(client, 2)

    assert (spent, other, anonymous) == ([200, 200, 429], [200, 200], [200, 200])


async def test_a_request_with_a_bad_token_counts_against_its_address(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await limited(make_client, settings, api_rate_limit="2/minute")

    await statuses(client, 2, headers=bearer("pt_not-a-token"))

    assert await statuses(client, 1) == [429]


async def test_a_refused_client_is_refused_again_without_counting(
    make_client: MakeClient, settings: Settings, conn: Any
) -> None:
    client = await limited(make_client, settings, api_rate_limit="1/minute")

    assert await statuses(client, 4) == [200, 429, 429, 429]
    assert await conn.scalar(sa.select(api_rate_counts.c.hits)) == 2


async def test_writes_count_too(
    make_client: MakeClient, settings: Settings, api_token: str
) -> None:
    client = await limited(make_client, settings, api_rate_limit="1/minute")
    created = await client.post(LIST, json={"name": "one"}, headers=bearer(api_token))

    refused = await client.post(LIST, json={"name": "two"}, headers=bearer(api_token))

    assert (created.status, refused.status) == (201, 429)


async def test_staff_tokens_have_the_staff_limit(
    make_client: MakeClient, settings: Settings, conn: Any, staff_user: User
) -> None:
    _, token = await create_token(conn, staff_user.id)
    client = await limited(
        make_client, settings, api_rate_limit="1/minute", api_rate_limit_staff="3/minute"
    )

    assert await statuses(client, 4, headers=bearer(token)) == [200, 200, 200, 429]


async def test_staff_tokens_are_not_limited_with_the_staff_limit_off(
    make_client: MakeClient, settings: Settings, conn: Any, staff_user: User
) -> None:
    _, token = await create_token(conn, staff_user.id)
    client = await limited(
        make_client, settings, api_rate_limit="1/minute", api_rate_limit_staff="off"
    )

    assert await statuses(client, 3, headers=bearer(token)) == [200, 200, 200]


async def test_with_the_limit_off_nothing_is_counted(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await limited(make_client, settings, api_rate_limit="off")

    response = await client.get(LIST)

    assert "RateLimit" not in response.headers


async def test_html_pages_are_not_counted(make_client: MakeClient, settings: Settings) -> None:
    client = await limited(make_client, settings, api_rate_limit="1/minute")

    assert await statuses(client, 2, path="/polls/") == [200, 200]
    assert "RateLimit" not in (await client.get("/polls/")).headers


async def test_an_ended_window_starts_a_new_count(
    make_client: MakeClient, settings: Settings, conn: Any
) -> None:
    client = await limited(make_client, settings, api_rate_limit="1/minute")
    await client.get(LIST)
    # The window's end, moved into the past (no test waits a minute).
    await conn.execute(api_rate_counts.update().values(resets_at=sa.func.now()))

    assert await statuses(client, 2) == [200, 429]


async def test_the_sweep_deletes_only_ended_windows(conn: Any) -> None:
    await count_request(conn, "address:ended", dt.timedelta(seconds=60))
    await count_request(conn, "address:current", dt.timedelta(seconds=60))
    await conn.execute(
        api_rate_counts.update()
        .where(api_rate_counts.c.key == "address:ended")
        .values(resets_at=sa.func.now())
    )

    await sweep(conn)

    rows = await (await conn.execute(sa.select(api_rate_counts.c.key))).fetchall()
    assert [row.key for row in rows] == ["address:current"]


async def test_the_counters_skip_the_write_ahead_log(conn: Any) -> None:
    persistence = await conn.scalar(
        sa.text("SELECT relpersistence FROM pg_class WHERE relname = 'api_rate_counts'")
    )

    assert persistence == "u"  # UNLOGGED


# Behind a proxy


@pytest.mark.parametrize(
    ("proxies", "second_client_status"),
    [(("127.0.0.1",), 200), ((), 429)],
    ids=["trusted-proxy", "untrusted-peer"],
)
async def test_the_address_is_the_one_a_trusted_proxy_reports(
    make_client: MakeClient,
    settings: Settings,
    proxies: tuple[str, ...],
    second_client_status: int,
) -> None:
    client = await limited(
        make_client, settings, api_rate_limit="1/minute", trusted_proxies=proxies
    )
    first = await statuses(client, 2, headers={"X-Forwarded-For": "203.0.113.1"})

    second = await client.get(LIST, headers={"X-Forwarded-For": "203.0.113.2"})

    assert (first, second.status) == ([200, 429], second_client_status)


# Leases: a busy client counted several requests at a time


async def test_a_busy_client_is_told_every_request_left_and_refused_past_the_limit(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await limited(make_client, settings, api_rate_limit="100/minute")

    left = []
    for _ in range(102):
        response = await client.get(LIST)
        left.append((response.status, response.headers["RateLimit"].split(";")[1]))

    assert left == [(200, f"r={n}") for n in range(99, -1, -1)] + [(429, "r=0")] * 2


async def test_a_lease_is_counted_in_the_database_once(
    make_client: MakeClient, settings: Settings, conn: Any
) -> None:
    client = await limited(make_client, settings, api_rate_limit="100/minute")

    assert await statuses(client, 3) == [200, 200, 200]

    # One upsert took a lease of 5 (a twentieth of the limit) for the three.
    hits = await conn.scalar(sa.select(api_rate_counts.c.hits))
    assert hits == 5


async def test_two_processes_leasing_together_never_allow_more_than_the_limit(
    make_client: MakeClient, settings: Settings
) -> None:
    limit = settings.with_overrides(api_rate_limit="100/minute")
    first, second = await make_client(limit), await make_client(limit)

    allowed = 0
    for _ in range(60):
        for client in (first, second):
            allowed += (await client.get(LIST)).status == 200

    # Each process may hold a few requests of its last lease unused: the
    # quota ends a little early, never late.
    assert 90 <= allowed <= 100


# What a client is told


async def test_each_counted_answer_carries_the_drafts_headers(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await limited(make_client, settings, api_rate_limit="5/minute")
    await client.get(LIST)

    response = await client.get(LIST)

    assert response.headers["RateLimit-Policy"] == '"default";q=5;w=60'
    name, remaining, reset = response.headers["RateLimit"].split(";")
    assert (name, remaining) == ('"default"', "r=3")
    assert 1 <= int(reset.removeprefix("t=")) <= 60


async def test_an_error_answer_carries_the_headers_too(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await limited(make_client, settings, api_rate_limit="5/minute")

    response = await client.get("/api/no-such-thing/")

    assert response.status == 404
    assert response.headers["RateLimit-Policy"] == '"default";q=5;w=60'


async def test_past_the_limit_the_answer_is_a_429_problem_with_retry_after(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await limited(make_client, settings, api_rate_limit="1/hour")
    await client.get(LIST)

    response = await client.get(LIST)

    problem = await response.json(content_type=PROBLEM_TYPE)
    retry_after = int(response.headers["Retry-After"])
    assert (response.status, problem["status"], problem["title"]) == (
        429,
        429,
        "Too Many Requests",
    )
    assert "1 API requests per hour" in problem["detail"]
    assert 3500 < retry_after <= 3600
    assert response.headers["RateLimit"] == f'"default";r=0;t={retry_after}'
    assert response.headers["RateLimit-Policy"] == '"default";q=1;w=3600'


async def test_a_refusal_is_logged_as_a_security_event_naming_the_limit(
    make_client: MakeClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="portal.security")
    client = await limited(make_client, settings, api_rate_limit="1/minute")

    await statuses(client, 2)

    [event] = [r.getMessage() for r in caplog.records if r.name == "portal.security"]
    assert "refused 429 GET /api/todos/: API rate limit (1/minute) reached" in event


async def test_a_token_is_looked_up_once_per_request(
    make_client: MakeClient,
    settings: Settings,
    api_token: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lookups = []

    def counting(real: Any) -> Any:
        async def authenticate(conn: Any, secret: str) -> Any:
            lookups.append(secret)
            return await real(conn, secret)

        return authenticate

    for module in (middleware, endpoints):
        monkeypatch.setattr(module, "authenticate_bearer", counting(module.authenticate_bearer))
    client = await limited(make_client, settings, api_rate_limit="5/minute")

    response = await client.post(LIST, json={"name": "once"}, headers=bearer(api_token))

    assert (response.status, lookups) == (201, [api_token])


# Settings


def test_the_limits_are_on_by_default() -> None:
    settings = Settings()

    assert (settings.api_rate_limit, settings.api_rate_limit_staff) == (
        "600/minute",
        "6000/minute",
    )


@pytest.mark.parametrize("value", ["600", "ten/minute", "0/minute", "5/day", "5/minutes", ""])
def test_a_bad_rate_stops_start_up_naming_the_key(value: str) -> None:
    environ = {"PORTAL_SECRET_KEY": TEST_SECRET, "PORTAL_API_RATE_LIMIT_STAFF": value}

    with pytest.raises(SettingsError, match="'api_rate_limit_staff'"):
        load_settings(environ=environ)


def test_off_in_the_yaml_file_turns_the_limit_off(tmp_path: Any) -> None:
    config = tmp_path / "portal.yaml"
    config.write_text("api_rate_limit: off\n")

    settings = load_settings(config_file=config, environ={"PORTAL_SECRET_KEY": TEST_SECRET})

    assert settings.api_rate_limit == "off"
