"""Password hashing with argon2id, off the event loop (each hash takes a few hundred ms)."""

from __future__ import annotations

import asyncio
import functools
import os

from aiohttp import web
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "FAST_HASHING_ENV",
    "MIN_PASSWORD_LENGTH",
    "hash_password",
    "hash_slots",
    "hash_slots_key",
    "hasher",
    "verify_password",
]

MIN_PASSWORD_LENGTH = 8

#: Set to ``1`` by test suites only: argon2id at its cheapest, as Django's tests
#: swap in a fast hasher. A quarter of a second per hash, times every user a
#: suite creates and logs in, is minutes; ``portal check`` names it if it is
#: ever set where the site is deployed.
FAST_HASHING_ENV = "PORTAL_FAST_PASSWORD_HASHING"


@functools.cache
def hasher() -> PasswordHasher:
    """The process's argon2id hasher: RFC 9106's second recommended profile (argon2-cffi's
    default), or the cheapest one when :data:`FAST_HASHING_ENV` is set.

    A hash records its own parameters, so either verifies the other's hashes.
    """
    if os.environ.get(FAST_HASHING_ENV) == "1":
        return PasswordHasher.from_parameters(profiles.CHEAPEST)
    return PasswordHasher()


#: How many password checks the login form runs at once in this process. A
#: burst of logins queues here, holding nothing else (no database connection),
#: rather than crowding the threads that also serve files and other work.
hash_slots_key = web.AppKey("hash_slots_key", asyncio.Semaphore)


def hash_slots() -> asyncio.Semaphore:
    """A limiter for :data:`hash_slots_key`: one check per CPU this process may run on.

    argon2 is CPU-bound (and already spreads one hash over several threads),
    so more checks at once than CPUs only make each one slower.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return asyncio.Semaphore(max(1, cpus))


@functools.cache
def _dummy_hash(current: PasswordHasher) -> str:
    """Verified against when the user does not exist, so an unknown username
    costs as much time as a wrong password and the two cannot be told apart.
    Made on first use, not at import: a hash takes tens of ms of start-up."""
    return current.hash("portal-dummy-password")


async def hash_password(password: str) -> str:
    """The argon2id hash of *password*."""
    return await asyncio.to_thread(hasher().hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether *password* matches *password_hash* (None: no such user, still costs a hash)."""

    def check() -> bool:
        try:
            current = hasher()
            return current.verify(password_hash or _dummy_hash(current), password) and (
                password_hash is not None
            )
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)
