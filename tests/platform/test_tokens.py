"""API tokens: shown once, stored as a SHA-256 hash, revocable; and ``python -m portal token``."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from portal.platform.auth.tables import api_tokens, users
from portal.platform.auth.tokens import (
    TOKEN_PREFIX,
    authenticate_token,
    create_token,
    list_tokens,
    revoke_token,
)
from portal.platform.auth.users import User
from portal.platform.exceptions import NotFound
from portal.testing import Client
from tests.test_cli import run_portal


async def _row(conn: Any, token_id: int) -> Any:
    query = sa.select(api_tokens).where(api_tokens.c.id == token_id)
    return await (await conn.execute(query)).first()


async def _deactivate(conn: Any, user: User) -> None:
    await conn.execute(users.update().where(users.c.id == user.id).values(is_active=False))


# The data layer


async def test_create_token_returns_a_secret_starting_with_pt(conn: Any, user: User) -> None:
    token, secret = await create_token(conn, user.id, "laptop")

    assert secret.startswith("pt_")
    assert len(secret) > 40
    assert (token.user_id, token.name, token.revoked_at) == (user.id, "laptop", None)


async def test_every_token_is_different(conn: Any, user: User) -> None:
    secrets = {(await create_token(conn, user.id))[1] for _ in range(5)}

    assert len(secrets) == 5


async def test_only_the_sha256_of_the_secret_is_stored(conn: Any, user: User) -> None:
    token, secret = await create_token(conn, user.id)

    row = await _row(conn, token.id)
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert all(secret not in str(value) for value in row)


async def test_authenticate_token_returns_its_user(conn: Any, user: User) -> None:
    _, secret = await create_token(conn, user.id)

    assert await authenticate_token(conn, secret) == user


@pytest.mark.parametrize("secret", ["pt_unknown", "", "no-prefix-at-all"])
async def test_unknown_secret_authenticates_no_one(conn: Any, user: User, secret: str) -> None:
    await create_token(conn, user.id)

    assert await authenticate_token(conn, secret) is None


async def test_hash_of_a_token_does_not_authenticate(conn: Any, user: User) -> None:
    token, _ = await create_token(conn, user.id)

    assert await authenticate_token(conn, (await _row(conn, token.id)).token_hash) is None


async def test_revoked_token_authenticates_no_one(conn: Any, user: User) -> None:
    token, secret = await create_token(conn, user.id)

    revoked = await revoke_token(conn, token.id)

    assert revoked.revoked_at is not None
    assert await authenticate_token(conn, secret) is None


async def test_revoking_one_token_leaves_the_others(conn: Any, user: User) -> None:
    first, _ = await create_token(conn, user.id)
    _, second = await create_token(conn, user.id)

    await revoke_token(conn, first.id)

    assert await authenticate_token(conn, second) == user


async def test_revoking_twice_keeps_the_first_time(conn: Any, user: User) -> None:
    token, _ = await create_token(conn, user.id)

    first = await revoke_token(conn, token.id)
    again = await revoke_token(conn, token.id)

    assert again.revoked_at == first.revoked_at


async def test_revoking_an_unknown_token_is_not_found(conn: Any) -> None:
    with pytest.raises(NotFound):
        await revoke_token(conn, 999999)


async def test_token_of_an_inactive_user_authenticates_no_one(conn: Any, user: User) -> None:
    _, secret = await create_token(conn, user.id)

    await _deactivate(conn, user)

    assert await authenticate_token(conn, secret) is None


async def test_last_used_at_is_set_on_use(conn: Any, user: User) -> None:
    token, secret = await create_token(conn, user.id)
    assert token.last_used_at is None

    await authenticate_token(conn, secret)

    (listed,) = await list_tokens(conn, user.id)
    assert listed.last_used_at is not None
    assert listed.last_used_at >= listed.created_at


async def _set_last_used(conn: Any, token_id: int, ago: str) -> None:
    await conn.execute(
        api_tokens.update()
        .where(api_tokens.c.id == token_id)
        .values(last_used_at=sa.func.now() - sa.cast(ago, sa.Interval))
    )


async def _last_used(conn: Any, token_id: int) -> Any:
    query = sa.select(api_tokens.c.last_used_at).where(api_tokens.c.id == token_id)
    return await conn.scalar(query)


async def test_a_recent_last_used_at_is_not_rewritten(conn: Any, user: User) -> None:
    token, secret = await create_token(conn, user.id)
    await _set_last_used(conn, token.id, "10 seconds")
    before = await _last_used(conn, token.id)

    await authenticate_token(conn, secret)

    assert await _last_used(conn, token.id) == before


async def test_a_stale_last_used_at_is_refreshed(conn: Any, user: User) -> None:
    token, secret = await create_token(conn, user.id)
    await _set_last_used(conn, token.id, "2 minutes")
    before = await _last_used(conn, token.id)

    await authenticate_token(conn, secret)

    assert await _last_used(conn, token.id) > before


async def test_list_tokens_shows_the_users_tokens_oldest_first(
    conn: Any, user: User, staff_user: User
) -> None:
    first, _ = await create_token(conn, user.id, "first")
    second, _ = await create_token(conn, user.id, "second")
    await create_token(conn, staff_user.id, "someone else's")
    await revoke_token(conn, first.id)

    listed = await list_tokens(conn, user.id)

    assert [(t.id, t.name) for t in listed] == [(first.id, "first"), (second.id, "second")]
    assert [t.revoked_at is None for t in listed] == [False, True]


# The command line


def _token_cli(args: list[str], clean_db: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # No secret key: managing tokens serves no page.
    return run_portal(["token", *args], {"PORTAL_DATABASE_URL": clean_db}, cwd)


async def _write(client: Client, secret: str, name: str) -> int:
    response = await client.post(
        "/api/todos/", json={"name": name}, headers={"Authorization": f"Bearer {secret}"}
    )
    return response.status


async def test_cli_create_prints_the_token_alone_on_the_last_line(
    clean_db: str, tmp_path: Path, user: User, conn: Any
) -> None:
    result = _token_cli(["create", "alice"], clean_db, tmp_path)

    assert result.returncode == 0, result.stderr
    secret = result.stdout.splitlines()[-1]
    assert secret.startswith(TOKEN_PREFIX)
    assert secret.strip() == secret
    assert await authenticate_token(conn, secret) == user


async def test_cli_created_token_authenticates_an_api_write(
    client: Client, clean_db: str, tmp_path: Path, user: User
) -> None:
    result = _token_cli(["create", "alice", "--name", "ci"], clean_db, tmp_path)

    assert await _write(client, result.stdout.splitlines()[-1], "from the CLI") == 201


async def test_cli_list_shows_the_token(
    clean_db: str, tmp_path: Path, user: User, conn: Any
) -> None:
    _token_cli(["create", "alice", "--name", "deploy-bot"], clean_db, tmp_path)
    (token,) = await list_tokens(conn, user.id)

    result = _token_cli(["list", "alice"], clean_db, tmp_path)

    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    assert line.split("\t")[:4] == [str(token.id), "deploy-bot", "active", "write"]
    assert "last used never" in line


async def test_cli_list_never_shows_a_secret(
    clean_db: str, tmp_path: Path, user: User, conn: Any
) -> None:
    _, secret = await create_token(conn, user.id)

    result = _token_cli(["list", "alice"], clean_db, tmp_path)

    assert secret not in result.stdout
    assert TOKEN_PREFIX not in result.stdout


async def test_cli_revoke_makes_the_api_answer_401(
    client: Client, clean_db: str, tmp_path: Path, user: User, conn: Any
) -> None:
    token, secret = await create_token(conn, user.id)
    assert await _write(client, secret, "before") == 201

    result = _token_cli(["revoke", str(token.id)], clean_db, tmp_path)

    assert result.returncode == 0, result.stderr
    assert f"Token {token.id}" in result.stdout
    assert await _write(client, secret, "after") == 401
    listed = _token_cli(["list", "alice"], clean_db, tmp_path).stdout
    assert "\trevoked\t" in listed


async def test_cli_create_for_an_unknown_user_exits_1(clean_db: str, tmp_path: Path) -> None:
    result = _token_cli(["create", "nobody"], clean_db, tmp_path)

    assert result.returncode == 1
    assert result.stderr.strip() == "error: no user named 'nobody'"
    assert result.stdout == ""


async def test_cli_create_for_an_inactive_user_exits_1(
    clean_db: str, tmp_path: Path, user: User, conn: Any
) -> None:
    await _deactivate(conn, user)

    result = _token_cli(["create", "alice"], clean_db, tmp_path)

    assert result.returncode == 1
    assert "inactive" in result.stderr
    assert await list_tokens(conn, user.id) == []


async def test_cli_revoke_of_an_unknown_id_exits_1(clean_db: str, tmp_path: Path) -> None:
    result = _token_cli(["revoke", "999999"], clean_db, tmp_path)

    assert result.returncode == 1
    assert "999999" in result.stderr
    assert "Traceback" not in result.stderr
