"""Security events: each refused request (401, 403, 429) is one WARNING on ``portal.security``."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import pytest

from portal.platform.auth.tokens import create_token
from portal.platform.auth.users import User
from portal.settings import Settings
from portal.testing import PASSWORD, Client, MakeClient, csrf_token, log_in


@pytest.fixture(autouse=True)
def _capture_security_events(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="portal.security")


def events(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "portal.security"]


def only_event(caplog: pytest.LogCaptureFixture) -> str:
    (record,) = events(caplog)
    assert record.levelno == logging.WARNING
    return record.getMessage()


async def token_of(conn: Any, user: User) -> str:
    return (await create_token(conn, user.id))[1]


async def test_a_csrf_refusal_is_one_event_naming_what_and_why(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    response = await client.post("/logout?next=/secret-query", data={"csrf_token": "forged"})

    assert response.status == 403
    line = only_event(caplog)
    assert line.startswith("refused 403 POST /logout: CSRF check failed")
    assert "user=anonymous" in line
    assert "client=127.0.0.1" in line
    assert "secret-query" not in line
    assert "forged" not in caplog.text


async def test_a_csrf_refusal_names_the_logged_in_user(
    client: Client, user: User, caplog: pytest.LogCaptureFixture
) -> None:
    await log_in(client, user.username)
    caplog.clear()

    response = await client.post("/todos/", data={"name": "milk"})

    assert response.status == 403
    assert "user='alice'" in only_event(caplog)


async def test_a_user_who_is_not_staff_at_the_admin_is_one_event(
    client: Client, user: User, caplog: pytest.LogCaptureFixture
) -> None:
    await log_in(client, user.username)
    caplog.clear()

    response = await client.get("/admin/")

    assert response.status == 403
    line = only_event(caplog)
    assert line.startswith("refused 403 GET /admin/: The admin is for staff only.")
    assert "user='alice'" in line


async def test_an_api_write_without_a_token_is_one_event(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    response = await client.post("/api/todos/", json={"name": "milk"})

    assert response.status == 401
    line = only_event(caplog)
    assert line.startswith("refused 401 POST /api/todos/: missing token")
    assert "user=anonymous" in line


async def test_an_api_write_with_a_bad_token_is_one_event_without_the_token(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "not-a-real-token-0123456789"

    response = await client.post(
        "/api/todos/", json={"name": "milk"}, headers={"Authorization": f"Bearer {secret}"}
    )

    assert response.status == 401
    assert only_event(caplog).startswith("refused 401 POST /api/todos/: bad token")
    assert secret not in caplog.text


async def test_an_api_call_for_staff_by_a_user_is_one_event_naming_them(
    client: Client, user: User, conn: Any, caplog: pytest.LogCaptureFixture
) -> None:
    secret = await token_of(conn, user)

    response = await client.post(
        "/api/questions/",
        json={"question_text": "Why?", "choices": ["Because"]},
        headers={"Authorization": f"Bearer {secret}"},
    )

    assert response.status == 403
    line = only_event(caplog)
    assert line.startswith("refused 403 POST /api/questions/: This operation is for staff")
    assert "user='alice'" in line
    assert secret not in caplog.text


async def test_a_throttled_login_is_one_event_per_refusal_without_the_password(
    client: Client, user: User, caplog: pytest.LogCaptureFixture
) -> None:
    token = await csrf_token(client)
    form = {"username": "alice", "password": "wrong-password", "csrf_token": token}
    # However the throttle counts, wrong passwords from one client end in 429.
    for _ in range(50):
        response = await client.post("/login", data=form, allow_redirects=False)
        if response.status == 429:
            break
    assert response.status == 429

    line = only_event(caplog)
    assert line.startswith("refused 429 POST /login: login throttled for 'alice' (")
    # Once in the whole log, not also on portal.auth.
    throttled = [r.name for r in caplog.records if "throttled" in r.getMessage()]
    assert throttled == ["portal.security"]
    assert "wrong-password" not in caplog.text
    assert PASSWORD not in caplog.text


async def test_behind_a_trusted_proxy_the_event_names_the_real_client(
    make_client: MakeClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    client = await make_client(dataclasses.replace(settings, trusted_proxies=("127.0.0.1",)))

    response = await client.post("/logout", headers={"X-Forwarded-For": "203.0.113.9"})

    assert response.status == 403
    assert "client=203.0.113.9" in only_event(caplog)


async def test_allowed_requests_and_other_errors_write_no_event(
    client: Client, user: User, caplog: pytest.LogCaptureFixture
) -> None:
    await log_in(client, user.username)
    await client.get("/no/such/page")
    await client.get("/api/todos/999999")
    assert events(caplog) == []

    response = await client.post("/logout")

    assert response.status == 403
    assert len(events(caplog)) == 1
