"""Queries over the users table; the data layer raises domain errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg2.errors
import sqlalchemy as sa

from portal.platform.auth.passwords import MIN_PASSWORD_LENGTH, hash_password
from portal.platform.auth.tables import users
from portal.platform.db.engine import Connection
from portal.platform.exceptions import Conflict, NotFound, PortalError

__all__ = [
    "InvalidUser",
    "User",
    "create_user",
    "end_sessions",
    "get_user",
    "get_user_by_username",
    "password_hash_of",
    "set_password",
    "touch_last_login",
    "user_columns",
    "user_from_row",
    "validate_credentials",
    "validate_password",
]


class InvalidUser(PortalError):
    """A username or password that cannot be accepted; the message says why."""


@dataclass(frozen=True, slots=True)
class User:
    """A user as views see it: never carries the password hash."""

    id: int
    username: str
    is_staff: bool
    is_active: bool
    #: A session counts only while it carries this version (see ``end_sessions``).
    session_version: int = 1


#: The columns a :class:`User` is built from.
user_columns = (
    users.c.id,
    users.c.username,
    users.c.is_staff,
    users.c.is_active,
    users.c.session_version,
)


_USER_BY_ID = sa.select(*user_columns).where(users.c.id == sa.bindparam("user_id"))


def user_from_row(row: Any) -> User:
    """A :class:`User` from a row holding :data:`user_columns`."""
    return User(
        id=row.id,
        username=row.username,
        is_staff=row.is_staff,
        is_active=row.is_active,
        session_version=row.session_version,
    )


async def get_user(conn: Connection, user_id: int) -> User:
    """The user with *user_id*; :class:`NotFound` when there is none."""
    row = await (await conn.execute(_USER_BY_ID, user_id=user_id)).first()
    if row is None:
        raise NotFound(f"no user with id {user_id}")
    return user_from_row(row)


async def get_user_by_username(conn: Connection, username: str) -> User:
    """The user named *username*; :class:`NotFound` when there is none."""
    query = sa.select(*user_columns).where(users.c.username == username)
    row = await (await conn.execute(query)).first()
    if row is None:
        raise NotFound(f"no user named {username!r}")
    return user_from_row(row)


async def password_hash_of(conn: Connection, username: str) -> tuple[User, str] | None:
    """The user named *username* and their hash, for checking a login."""
    query = sa.select(*user_columns, users.c.password_hash).where(users.c.username == username)
    row = await (await conn.execute(query)).first()
    return None if row is None else (user_from_row(row), row.password_hash)


def validate_credentials(username: str, password: str) -> None:
    """Raise :class:`InvalidUser` for a username or password we would not store."""
    if not username or len(username) > 150 or username.strip() != username:
        raise InvalidUser("username must be 1-150 characters with no surrounding spaces")
    validate_password(password)


def validate_password(password: str) -> None:
    """Raise :class:`InvalidUser` for a password we would not store."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidUser(f"password must be at least {MIN_PASSWORD_LENGTH} characters")


async def create_user(
    conn: Connection, username: str, password: str, *, is_staff: bool = False
) -> User:
    """Store a new user with a hashed password; :class:`Conflict` if the name is taken."""
    validate_credentials(username, password)
    password_hash = await hash_password(password)
    query = (
        users.insert()
        .values(username=username, password_hash=password_hash, is_staff=is_staff)
        .returning(*user_columns)
    )
    try:
        row = await (await conn.execute(query)).first()
    except psycopg2.errors.UniqueViolation as exc:
        raise Conflict(f"a user named {username!r} already exists") from exc
    return user_from_row(row)


async def set_password(conn: Connection, username: str, password: str) -> User:
    """Give *username* a new password; :class:`NotFound` when there is no such user.

    Every session of the user ends with it: the ``users_end_sessions``
    trigger (platform_0004) raises the session version whenever the hash
    changes. API tokens are left alone.
    """
    validate_password(password)
    password_hash = await hash_password(password)
    query = (
        users.update()
        .where(users.c.username == username)
        .values(password_hash=password_hash)
        .returning(*user_columns)
    )
    row = await (await conn.execute(query)).first()
    if row is None:
        raise NotFound(f"no user named {username!r}")
    return user_from_row(row)


_LOGGED_IN = (
    users.update()
    .where(
        users.c.id == sa.bindparam("user_id"),
        users.c.password_hash == sa.bindparam("checked_hash"),
        users.c.is_active.is_(True),
    )
    .values(last_login=sa.func.now())
    .returning(*user_columns)
)


async def touch_last_login(conn: Connection, user_id: int, checked_hash: str) -> User | None:
    """Record that *user_id* has just logged in with a password checked against *checked_hash*.

    The password is checked with no connection held, so the user may have
    changed meanwhile: None when their password changed or they were
    deactivated since; else the user as they are now (their current session
    version).
    """
    row = await (await conn.execute(_LOGGED_IN, user_id=user_id, checked_hash=checked_hash)).first()
    return None if row is None else user_from_row(row)


async def end_sessions(conn: Connection, user_id: int) -> None:
    """End every session of *user_id*, on every device, copied cookies included.

    Changing the password or deactivating the user does the same, by trigger.
    """
    await conn.execute(
        users.update()
        .where(users.c.id == user_id)
        .values(session_version=users.c.session_version + 1)
    )
