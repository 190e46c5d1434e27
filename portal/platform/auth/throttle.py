"""Login throttling by account and by client address, shared by every worker through PostgreSQL.

Three limits over one sliding window (all settings; the defaults in brackets):

- failures for one account from one address [10 in 15 minutes]: slows a
  guesser down without locking the owner out, who still logs in from their
  own address;
- failures from one address, whatever the accounts [30]: one address cannot
  try account after account;
- failures for one account from every address [100]: a ceiling against
  guessing spread over many addresses.

Once a limit is reached, every attempt it covers is refused (429 with
``Retry-After``), even with the right password, until the failure that
reached it leaves the window. The account is the username as typed,
lower-cased, so an unknown name is throttled exactly like a real one. The
address is the client's as the site sees it: the peer, or what a *trusted*
proxy reports in ``X-Forwarded-For`` (:mod:`portal.platform.edge.proxy`); an IPv6
client counts by its /64, which one client usually holds whole.

No database connection is held while a password is checked (a quarter of a
second of argon2). :func:`reserve` checks the limits and records the attempt
as a failure *before* the check, in one short transaction holding advisory
locks on the account and the address; :func:`clear` deletes the pair's
failures once the password proved right. So concurrent guesses, in any number
of worker processes, never get more password checks than the limits allow,
and an attempt cut short counts as a failure. Time comes from PostgreSQL,
which every worker shares.

A reservation counts before its outcome is known, so attempts still being
checked count against the limits: twenty right passwords for one account
sent at once would see ten of them refused. Within one process, attempts on
the same account from the same address therefore take turns
(:class:`AttemptLocks`), holding no connection while they wait; so do the
reservations themselves, so that attempts queued on PostgreSQL's advisory
locks never hold more than one pooled connection per process.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import math
import weakref
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from portal.platform.auth.tables import login_failures
from portal.platform.db.engine import Connection
from portal.platform.exceptions import PortalError
from portal.settings import Settings

__all__ = [
    "Attempt",
    "AttemptLocks",
    "Limits",
    "Throttled",
    "account_key",
    "address_key",
    "attempt_locks_key",
    "clear",
    "reserve",
]

#: An IPv6 client is counted by its network of this size: ISPs hand one
#: customer a /64 (or more), so counting single addresses would let one client
#: rotate through 2**64 of them.
_IPV6_PREFIX = 64
#: Key spaces of the throttle's advisory locks (the two-integer form), so an
#: account and an address whose names hash alike never share a lock.
_ADDRESS_LOCKS = 14_001
_ACCOUNT_LOCKS = 14_002
#: Expired rows deleted per attempt: enough to keep the table to roughly the
#: rows of one window, small enough to cost nothing noticeable.
_SWEEP_BATCH = 100


@dataclass(frozen=True, slots=True)
class Limits:
    """How many failures each scope may have within :attr:`window`."""

    window: dt.timedelta
    per_account_and_address: int
    per_address: int
    per_account: int

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        """The limits *settings* configure."""
        return cls(
            window=dt.timedelta(seconds=settings.login_failure_window),
            per_account_and_address=settings.login_failures_per_account_and_address,
            per_address=settings.login_failures_per_address,
            per_account=settings.login_failures_per_account,
        )


@dataclass(frozen=True, slots=True)
class Attempt:
    """Whom a login attempt is for and where it comes from, as the throttle counts them."""

    account: str
    address: str

    @classmethod
    def of(cls, username: str, remote: str | None) -> Attempt:
        """The attempt to log in as *username* from the client address *remote*."""
        return cls(account=account_key(username), address=address_key(remote))


class AttemptLocks:
    """This process's turns: one lock per (account, address) with an attempt in
    progress, and one for making reservations."""

    def __init__(self) -> None:
        # Weak: a lock goes away with the last attempt waiting on or holding it.
        self._locks: weakref.WeakValueDictionary[Attempt, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        #: Held around :func:`reserve`'s transaction. Reservations from one
        #: address (all of a NAT's users) or for one account wait for each
        #: other's advisory locks, each holding a pooled connection meanwhile:
        #: taking turns here first, a burst of logins holds one connection per
        #: process, not the pool. A reservation takes a few milliseconds.
        self.reserving = asyncio.Lock()

    def __call__(self, attempt: Attempt) -> asyncio.Lock:
        """The lock attempts like *attempt* take turns on."""
        lock = self._locks.get(attempt)
        if lock is None:
            lock = self._locks[attempt] = asyncio.Lock()
        return lock


#: This process's :class:`AttemptLocks`, made by the root factory.
attempt_locks_key = web.AppKey("attempt_locks_key", AttemptLocks)


class Throttled(PortalError):
    """Too many failed logins in one of the scopes an attempt falls in."""

    def __init__(self, retry_after: int, scope: str) -> None:
        super().__init__(f"login throttled ({scope}); retry after {retry_after} s")
        #: Seconds until the attempt may be made.
        self.retry_after = retry_after
        #: Which limit was reached: ``account and address``, ``address`` or ``account``.
        self.scope = scope


def account_key(username: str) -> str:
    """The throttled account a login for *username* counts against."""
    return username.strip().lower()


def address_key(remote: str | None) -> str:
    """The throttled address a client at *remote* counts as (an IPv6 client by its /64)."""
    if not remote:
        # A Unix socket has no address: its clients share one count.
        return ""
    try:
        ip = ipaddress.ip_address(remote)
    except ValueError:
        return remote
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, _IPV6_PREFIX), strict=False))
    return str(ip)


_account = sa.bindparam("account", type_=sa.Text)
_address = sa.bindparam("address", type_=sa.Text)
_window = sa.bindparam("window", type_=sa.Interval)

# One statement, so the two locks are always taken in the same order: address,
# then account (two transactions taking them in opposite orders could deadlock).
_LOCK = sa.select(
    sa.func.pg_advisory_xact_lock(_ADDRESS_LOCKS, sa.func.hashtext(_address)),
    sa.func.pg_advisory_xact_lock(_ACCOUNT_LOCKS, sa.func.hashtext(_account)),
)


def _time_left(skip: str, *where: Any) -> Any:
    """How long until the scope *where* has fewer failures than its limit (NULL: it has)

    That is when the limit-th newest failure in the window leaves it;
    ``skip`` names the parameter holding the limit less one.
    """
    return (
        sa.select(login_failures.c.at + _window - sa.func.now())
        .where(login_failures.c.at > sa.func.now() - _window, *where)
        .order_by(login_failures.c.at.desc())
        .offset(sa.bindparam(skip, type_=sa.Integer))
        .limit(1)
        .scalar_subquery()
    )


_TIME_LEFT = sa.select(
    _time_left(
        "pair_skip", login_failures.c.account == _account, login_failures.c.address == _address
    ).label("pair"),
    _time_left("address_skip", login_failures.c.address == _address).label("address"),
    _time_left("account_skip", login_failures.c.account == _account).label("account"),
)
#: The columns of :data:`_TIME_LEFT`, and the scope each stands for.
_SCOPES = {"pair": "account and address", "address": "address", "account": "account"}
_RESERVE = login_failures.insert().values(account=_account, address=_address)
_CLEAR = login_failures.delete().where(
    login_failures.c.account == _account, login_failures.c.address == _address
)
# SKIP LOCKED: two attempts sweeping at once split the rows instead of one
# waiting for the other's locks.
_SWEEP = login_failures.delete().where(
    login_failures.c.id.in_(
        sa.select(login_failures.c.id)
        .where(login_failures.c.at <= sa.func.now() - _window)
        .limit(_SWEEP_BATCH)
        .with_for_update(skip_locked=True)
    )
)


async def reserve(conn: Connection, attempt: Attempt, limits: Limits) -> None:
    """Record *attempt* as a failure before its password is checked; :class:`Throttled`
    when a limit is reached, and then nothing is recorded.

    Run it in a transaction and commit that before checking the password: its
    locks make attempts on the same account or from the same address wait
    for each other's reservation, and they last until the transaction ends.
    """
    names = {"account": attempt.account, "address": attempt.address}
    await conn.execute(_LOCK, **names)
    row = await (
        await conn.execute(
            _TIME_LEFT,
            **names,
            window=limits.window,
            pair_skip=limits.per_account_and_address - 1,
            address_skip=limits.per_address - 1,
            account_skip=limits.per_account - 1,
        )
    ).first()
    reached = {scope: row[label] for label, scope in _SCOPES.items() if row[label] is not None}
    if reached:
        # Refused until every limit reached lets the attempt through.
        scope = max(reached, key=reached.__getitem__)
        seconds = math.ceil(reached[scope].total_seconds())
        raise Throttled(max(1, seconds), scope)
    await conn.execute(_RESERVE, **names)
    await conn.execute(_SWEEP, window=limits.window)


async def clear(conn: Connection, attempt: Attempt) -> None:
    """Forget the failures of *attempt*'s account from its address (its own reservation
    included), after the right password: other addresses' failures still count."""
    await conn.execute(_CLEAR, account=attempt.account, address=attempt.address)
