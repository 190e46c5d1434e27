"""Scoped API tokens: a ``read`` token calls only GET operations; ``write`` (the default,
and every token issued before scopes) calls any.

The route-table walk over every API operation is in ``test_route_inventory.py``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import psycopg2
import pytest
import sqlalchemy as sa
from alembic import command

from portal.apps.polls.queries import create_question
from portal.platform.api.problems import PROBLEM_TYPE
from portal.platform.auth.tables import api_tokens
from portal.platform.auth.tokens import (
    authenticate_bearer,
    authenticate_token,
    create_token,
    list_tokens,
)
from portal.platform.auth.users import User
from portal.platform.db.schema import alembic_config
from portal.testing import Client, bearer
from tests.conftest import INSTALLED_APPS
from tests.databases import query, scratch_database
from tests.platform.test_tokens import _token_cli

# The data layer


async def test_a_token_is_a_write_token_unless_asked(conn: Any, user: User) -> None:
    token, secret = await create_token(conn, user.id)

    assert token.scope == "write"
    assert await authenticate_bearer(conn, secret) == await _bearer(conn, user, "write", secret)


async def _bearer(conn: Any, user: User, scope: str, secret: str) -> Any:
    found = await authenticate_bearer(conn, secret)
    assert found is not None
    assert (found.user, found.scope) == (user, scope)
    return found


async def test_a_read_token_authenticates_its_user_with_its_scope(conn: Any, user: User) -> None:
    token, secret = await create_token(conn, user.id, "dashboard", scope="read")

    assert token.scope == "read"
    await _bearer(conn, user, "read", secret)
    # Reads that show more to some users (staff) still know who is asking.
    assert await authenticate_token(conn, secret) == user
    assert [t.scope for t in await list_tokens(conn, user.id)] == ["read"]


async def test_an_unknown_scope_is_refused_before_the_database(conn: Any, user: User) -> None:
    with pytest.raises(ValueError, match="unknown token scope 'admin'"):
        await create_token(conn, user.id, scope="admin")  # type: ignore[arg-type]


async def test_the_database_refuses_an_unknown_scope(conn: Any, user: User) -> None:
    with pytest.raises(psycopg2.errors.CheckViolation, match="api_tokens_scope_check"):
        await conn.execute(
            api_tokens.insert().values(user_id=user.id, name="x", token_hash="0" * 64, scope="all")
        )


# The API


async def test_a_read_token_gets_403_naming_the_write_scope_on_a_write(
    client: Client, read_token: str, conn: Any
) -> None:
    response = await client.post("/api/todos/", json={"name": "nope"}, headers=bearer(read_token))

    assert response.status == 403
    assert response.content_type == PROBLEM_TYPE
    assert await response.json() == {
        "type": "/api/problems/insufficient-scope",
        "title": "Insufficient Scope",
        "status": 403,
        "detail": "This operation needs a token with the write scope; this token's scope is read.",
    }
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="api", error="insufficient_scope", scope="write"'
    )
    assert await conn.scalar(sa.text("SELECT count(*) FROM todo")) == 0


async def test_a_read_token_reads(client: Client, read_token: str) -> None:
    response = await client.get("/api/todos/", headers=bearer(read_token))

    assert response.status == 200


async def test_a_write_token_still_writes(client: Client, api_token: str) -> None:
    response = await client.post("/api/todos/", json={"name": "yes"}, headers=bearer(api_token))

    assert response.status == 201


async def test_a_staff_users_read_token_sees_unpublished_questions(
    client: Client, conn: Any, staff_user: User
) -> None:
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    asked = await create_question(conn, "Not yet?", ["Soon"], future)
    _, secret = await create_token(conn, staff_user.id, "staff reads", scope="read")

    listed = await client.get("/api/questions/", headers=bearer(secret))
    one = await client.get(f"/api/questions/{asked.id}", headers=bearer(secret))
    anonymous = await client.get(f"/api/questions/{asked.id}")

    assert [q["id"] for q in (await listed.json())["items"]] == [asked.id]
    assert one.status == 200
    assert anonymous.status == 404


async def test_a_staff_users_read_token_cannot_write_as_staff(
    client: Client, conn: Any, staff_user: User
) -> None:
    _, secret = await create_token(conn, staff_user.id, "staff reads", scope="read")
    body = {"question_text": "Scoped?", "choices": [{"choice_text": "No"}]}

    response = await client.post("/api/questions/", json=body, headers=bearer(secret))

    assert response.status == 403
    assert "write scope" in (await response.json())["detail"]


# The command line


async def test_cli_create_read_token_reads_but_cannot_write(
    client: Client, clean_db: str, tmp_path: Path, user: User, conn: Any
) -> None:
    result = _token_cli(["create", "alice", "--scope", "read"], clean_db, tmp_path)

    assert result.returncode == 0, result.stderr
    assert "read scope" in result.stdout.splitlines()[0]
    secret = result.stdout.splitlines()[-1]
    assert (await client.get("/api/todos/", headers=bearer(secret))).status == 200
    posted = await client.post("/api/todos/", json={"name": "x"}, headers=bearer(secret))
    assert posted.status == 403
    assert [t.scope for t in await list_tokens(conn, user.id)] == ["read"]


async def test_cli_create_defaults_to_write_and_list_shows_each_scope(
    clean_db: str, tmp_path: Path, user: User
) -> None:
    created = _token_cli(["create", "alice", "--name", "bot"], clean_db, tmp_path)
    _token_cli(["create", "alice", "--name", "dash", "--scope", "read"], clean_db, tmp_path)

    result = _token_cli(["list", "alice"], clean_db, tmp_path)

    assert "write scope" in created.stdout.splitlines()[0]
    assert [line.split("\t")[1:4] for line in result.stdout.splitlines()] == [
        ["bot", "active", "write"],
        ["dash", "active", "read"],
    ]


async def test_cli_create_refuses_an_unknown_scope(
    clean_db: str, tmp_path: Path, user: User, conn: Any
) -> None:
    result = _token_cli(["create", "alice", "--scope", "admin"], clean_db, tmp_path)

    assert result.returncode == 2
    assert "argument --scope: invalid choice: 'admin'" in result.stderr
    assert await list_tokens(conn, user.id) == []


# The migration


def test_tokens_issued_before_scopes_become_write_tokens(database_url: str) -> None:
    with scratch_database(database_url, "portal_scope") as url:
        config = alembic_config(url, INSTALLED_APPS)
        command.upgrade(config, "platform_0006")
        query(url, "INSERT INTO users (username, password_hash) VALUES ('old', 'x')")
        query(
            url,
            "INSERT INTO api_tokens (user_id, name, token_hash) "
            "SELECT id, 'old', repeat('a', 64) FROM users",
        )

        command.upgrade(config, "platform_0007")

        assert query(url, "SELECT name, scope FROM api_tokens") == [("old", "write")]
        with pytest.raises(psycopg2.errors.CheckViolation):
            query(url, "UPDATE api_tokens SET scope = 'admin'")

        command.downgrade(config, "platform_0006")

        columns = query(
            url,
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'api_tokens'",
        )
        assert ("scope",) not in columns
        assert query(url, "SELECT name FROM api_tokens") == [("old",)]
