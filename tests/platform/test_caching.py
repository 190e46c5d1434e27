"""``Cache-Control: private, no-store`` on what is made for one session, and only there."""

from __future__ import annotations

from typing import Any

import pytest

from portal.apps.polls.queries import create_question
from portal.platform.auth.tokens import create_token
from portal.platform.auth.users import User
from portal.platform.edge.caching import PRIVATE
from portal.testing import Client, log_in


@pytest.fixture
async def question_id(conn: Any) -> int:
    return (await create_question(conn, "Tea or coffee?", ["Tea", "Coffee"])).id


@pytest.fixture
async def logged_in(client: Client, user: User) -> Client:
    response = await log_in(client, user.username)
    assert response.status == 303
    return client


@pytest.mark.parametrize("path", ["/", "/todos/", "/polls/", "/no/such/page"])
async def test_pages_for_a_logged_in_user_are_never_stored(logged_in: Client, path: str) -> None:
    response = await logged_in.get(path)

    assert response.headers.get("Cache-Control") == PRIVATE


async def test_the_login_form_is_never_stored(client: Client) -> None:
    # It carries the session's CSRF token, which a cached copy would hand on.
    response = await client.get("/login")

    assert response.status == 200
    assert response.headers.get("Cache-Control") == PRIVATE


async def test_an_anonymous_page_with_a_form_is_never_stored(
    client: Client, question_id: int
) -> None:
    response = await client.get(f"/polls/{question_id}/")

    assert response.status == 200
    assert 'name="csrf_token"' in await response.text()
    assert response.headers.get("Cache-Control") == PRIVATE


async def test_a_redirect_after_logging_in_is_never_stored(client: Client, user: User) -> None:
    response = await log_in(client, user.username)

    assert response.status == 303
    assert response.headers.get("Cache-Control") == PRIVATE


async def test_an_api_answer_to_a_token_is_never_stored(
    client: Client, user: User, conn: Any
) -> None:
    _, secret = await create_token(conn, user.id)

    response = await client.post(
        "/api/todos/", json={"name": "milk"}, headers={"Authorization": f"Bearer {secret}"}
    )

    assert response.status == 201
    assert response.headers.get("Cache-Control") == PRIVATE


@pytest.mark.parametrize("path", ["/", "/polls/", "/todos/"])
async def test_a_public_page_is_private_only_once_a_user_is_logged_in(
    client: Client, user: User, path: str
) -> None:
    anonymous = await client.get(path)
    await log_in(client, user.username)
    personal = await client.get(path)

    assert (anonymous.status, personal.status) == (200, 200)
    assert "Cache-Control" not in anonymous.headers
    assert personal.headers.get("Cache-Control") == PRIVATE
