"""Password hashing with argon2id, off the event loop (each hash takes tens of ms)."""

from __future__ import annotations

import asyncio
import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["MIN_PASSWORD_LENGTH", "hash_password", "verify_password"]

MIN_PASSWORD_LENGTH = 8

# argon2-cffi's defaults follow RFC 9106's second recommended profile.
_hasher = PasswordHasher()


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
