"""Login throttling per account, its state in PostgreSQL so every worker shares it.

After :data:`MAX_FAILURES` failed logins for one account within
:data:`WINDOW`, every further attempt is refused (429 with ``Retry-After``),
even with the right password, until the oldest of those failures leaves the
window. The account is the username as typed, lower-cased, so an unknown
name is throttled exactly like a real one. A successful login clears the
account's failures. Attempts on one account are serialised by a
transaction-scoped advisory lock, so concurrent guesses cannot slip past the
count; nothing here depends on the client's address, so a forged
``X-Forwarded-For`` changes nothing.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import sqlalchemy as sa

from portal.platform.auth.tables import login_failures

__all__ = ["MAX_FAILURES", "WINDOW", "account_key", "lock_account", "record", "retry_after"]

MAX_FAILURES = 10
WINDOW = dt.timedelta(minutes=15)

# How long each recent failure still counts, newest first.
_RECENT = (
    sa.select((login_failures.c.at + WINDOW - sa.func.now()).label("left"))
    .where(
        login_failures.c.account == sa.bindparam("account"),
        login_failures.c.at > sa.func.now() - WINDOW,
    )
    .order_by(login_failures.c.at.desc())
    .limit(MAX_FAILURES)
)
_FORGET_OLD = login_failures.delete().where(
    login_failures.c.account == sa.bindparam("account"),
    login_failures.c.at <= sa.func.now() - WINDOW,
)
_FORGET_ALL = login_failures.delete().where(login_failures.c.account == sa.bindparam("account"))
_FAIL = login_failures.insert().values(account=sa.bindparam("account"))
_LOCK = sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(sa.bindparam("account"))))


def account_key(username: str) -> str:
    """The throttled account a login for *username* counts against."""
    return username.strip().lower()


async def lock_account(conn: Any, account: str) -> None:
    """Serialise attempts on *account* until *conn*'s transaction ends."""
    await conn.execute(_LOCK, account=account)


async def retry_after(conn: Any, account: str) -> int | None:
    """Seconds until *account* may try again, or None when it may now."""
    await conn.execute(_FORGET_OLD, account=account)
    recent = [row.left for row in await (await conn.execute(_RECENT, account=account)).fetchall()]
    if len(recent) < MAX_FAILURES:
        return None
    seconds: float = recent[-1].total_seconds()
    return max(1, math.ceil(seconds))


async def record(conn: Any, account: str, *, succeeded: bool) -> None:
    """Count a failed attempt, or clear the account's failures after a success."""
    await conn.execute(_FORGET_ALL if succeeded else _FAIL, account=account)
