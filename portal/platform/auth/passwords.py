"""Password hashing with argon2id, off the event loop (each hash takes a few hundred ms)."""

from __future__ import annotations

import asyncio
import functools
import os

from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "hash_password",
    "hash_slots",
    "hash_slots_key",
    "verify_password",
]

MIN_PASSWORD_LENGTH = 8

# argon2-cffi's defaults follow RFC 9106's second recommended profile.
_hasher = PasswordHasher()


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
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so an unknown username
    costs as much time as a wrong password and the two cannot be told apart.
    Made on first use, not at import: a hash takes tens of ms of start-up."""
    return _hasher.hash("portal-dummy-password")


async def hash_password(password: str) -> str:
    """The argon2id hash of *password*."""
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether *password* matches *password_hash* (None: no such user, still costs a hash)."""

    def check() -> bool:
        try:
            return _hasher.verify(password_hash or _dummy_hash(), password) and (
                password_hash is not None
            )
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)
