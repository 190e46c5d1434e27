"""API tokens: random, shown once, stored as a SHA-256 hash, revocable, scoped.

A ``write`` token may call any API operation its user may; a ``read`` token
only the reads (GET), whoever its user is.

A token carries 256 bits of randomness, so a fast hash is enough to make a
stolen table useless (unlike passwords, which need argon2); looking a token up
is one indexed query.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any, Literal, cast

import sqlalchemy as sa

from portal.platform.auth.tables import TOKEN_SCOPES, api_tokens, users
from portal.platform.auth.users import User, user_columns, user_from_row
from portal.platform.db.engine import Connection
from portal.platform.exceptions import NotFound

__all__ = [
    "TOKEN_PREFIX",
    "TOKEN_SCOPES",
    "ApiToken",
    "Bearer",
    "Scope",
    "authenticate_bearer",
    "authenticate_token",
    "create_token",
    "generate_token",
    "hash_token",
    "list_tokens",
    "revoke_token",
]

#: Every token starts with this, so a leaked one is easy to recognise and grep for.
TOKEN_PREFIX = "pt_"  # noqa: S105 (a marker, not a secret)

#: What a token may do (:data:`TOKEN_SCOPES`): ``read`` or ``write``.
Scope = Literal["read", "write"]


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A token's record; the secret itself is never stored."""

    id: int
    user_id: int
    name: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    scope: Scope = "write"


@dataclass(frozen=True, slots=True)
class Bearer:
    """Who presented a token, and what the token lets them do."""

    user: User
    scope: Scope


def _scope(value: str) -> Scope:
    # The column's CHECK constraint admits only these.
    if value not in TOKEN_SCOPES:
        raise ValueError(f"unknown token scope {value!r}")
    return cast(Scope, value)


def hash_token(token: str) -> str:
    """The stored form of *token*."""
    return hashlib.sha256(token.encode()).hexdigest()


def generate_token() -> tuple[str, str]:
    """A new secret and its stored form (the CLI, the API and the admin use this)."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return secret, hash_token(secret)


def _token(row: Any) -> ApiToken:
    return ApiToken(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
        scope=_scope(row.scope),
    )


async def create_token(
    conn: Connection, user_id: int, name: str = "default", *, scope: Scope = "write"
) -> tuple[ApiToken, str]:
    """A new token for *user_id*: its record, and the secret to show once."""
    secret, token_hash = generate_token()
    query = (
        api_tokens.insert()
        .values(user_id=user_id, name=name, token_hash=token_hash, scope=_scope(scope))
        .returning(*api_tokens.c)
    )
    row = await (await conn.execute(query)).first()
    return _token(row), secret


async def list_tokens(conn: Connection, user_id: int) -> list[ApiToken]:
    """Every token of *user_id*, revoked ones included, oldest first."""
    query = sa.select(api_tokens).where(api_tokens.c.user_id == user_id).order_by(api_tokens.c.id)
    return [_token(row) for row in await (await conn.execute(query)).fetchall()]


async def revoke_token(conn: Connection, token_id: int) -> ApiToken:
    """Revoke token *token_id* for good; :class:`NotFound` when there is none."""
    query = (
        api_tokens.update()
        .where(api_tokens.c.id == token_id)
        .values(revoked_at=sa.func.coalesce(api_tokens.c.revoked_at, sa.func.now()))
        .returning(*api_tokens.c)
    )
    row = await (await conn.execute(query)).first()
    if row is None:
        raise NotFound(f"no API token with id {token_id}")
    return _token(row)


#: How stale ``last_used_at`` may get: refreshing it on every call would make
#: each API request a write, and every request with one token wait for the
#: same row lock.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)

_STALE = sa.or_(
    api_tokens.c.last_used_at.is_(None),
    api_tokens.c.last_used_at < sa.func.now() - LAST_USED_RESOLUTION,
)
_TOKEN_USER = (
    sa.select(
        *user_columns,
        api_tokens.c.id.label("token_id"),
        api_tokens.c.scope.label("token_scope"),
        _STALE.label("stale"),
    )
    .select_from(api_tokens.join(users, api_tokens.c.user_id == users.c.id))
    .where(
        api_tokens.c.token_hash == sa.bindparam("token_hash"),
        api_tokens.c.revoked_at.is_(None),
        users.c.is_active.is_(True),
    )
)
_TOUCH = (
    api_tokens.update()
    .where(api_tokens.c.id == sa.bindparam("token_id"), _STALE)
    .values(last_used_at=sa.func.now())
)


async def authenticate_bearer(conn: Connection, secret: str) -> Bearer | None:
    """The active user *secret* belongs to and the token's scope, unless it is
    unknown or revoked.

    Records when the token was last used, to :data:`LAST_USED_RESOLUTION`.
    """
    if not secret.startswith(TOKEN_PREFIX):
        return None
    row = await (await conn.execute(_TOKEN_USER, token_hash=hash_token(secret))).first()
    if row is None:
        return None
    if row.stale:
        await conn.execute(_TOUCH, token_id=row.token_id)
    return Bearer(user_from_row(row), _scope(row.token_scope))


async def authenticate_token(conn: Connection, secret: str) -> User | None:
    """The active user *secret* belongs to, whatever the token's scope (for a read
    that shows more to some users); :func:`authenticate_bearer` tells the scope too."""
    bearer = await authenticate_bearer(conn, secret)
    return bearer.user if bearer is not None else None
