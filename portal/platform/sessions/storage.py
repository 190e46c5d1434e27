"""The cookie session every app shares, and per-app namespaces inside it.

aiohttp-session's ``EncryptedCookieStorage`` keeps the whole session in one
Fernet-encrypted cookie, so any worker process can read it without a shared
store. The key is derived from the secret key, never the secret itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Iterator, MutableMapping
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware
from aiohttp_session import (
    AbstractStorage,
    Session,
    get_session,
    new_session,
    session_middleware,
)
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.fernet import Fernet

from portal.platform.edge.proxy import is_https
from portal.settings import Settings

__all__ = [
    "AppSession",
    "app_session",
    "derive_key",
    "platform_session_middleware",
    "rotate_session",
]

log = logging.getLogger(__name__)

#: The session key holding a random id, new at every rotation.
SESSION_ID = "_sid"


def derive_key(secret: str, purpose: str) -> bytes:
    """A 32-byte key for one *purpose*, so no two uses share key material."""
    return hmac.new(secret.encode(), f"portal:{purpose}".encode(), hashlib.sha256).digest()


class _Storage(EncryptedCookieStorage):
    """Encrypted cookies where anything unreadable is a fresh session, never a 500."""

    async def load_session(self, request: web.Request) -> Session:
        try:
            return await super().load_session(request)
        except (ValueError, TypeError, KeyError, AttributeError):
            # Decrypted with our key but not a session we wrote (an old format,
            # say): start again rather than fail the request.
            log.warning("discarding an unreadable session cookie")
            return Session(None, data=None, new=True, max_age=self.max_age)


class _SchemeStorage(AbstractStorage):
    """The plain cookie over http; over https a ``Secure`` one named ``__Host-…``.

    Browsers only accept a ``__Host-`` cookie that is ``Secure``, set by the
    host itself for the whole site (no ``Domain``), so neither a sibling
    subdomain nor a man in the middle on plain http can plant or read it.
    """

    def __init__(self, plain: _Storage, https: _Storage) -> None:
        super().__init__(cookie_name=plain.cookie_name, max_age=plain.max_age)
        self._plain = plain
        self._https = https

    def _for(self, request: web.Request) -> _Storage:
        return self._https if is_https(request) else self._plain

    async def load_session(self, request: web.Request) -> Session:
        return await self._for(request).load_session(request)

    async def save_session(
        self, request: web.Request, response: web.StreamResponse, session: Session
    ) -> None:
        await self._for(request).save_session(request, response, session)


def platform_session_middleware(settings: Settings) -> Middleware:
    """The session middleware, keyed from the secret key, with safe cookie flags.

    ``session_cookie_secure`` forces the https cookie even for requests that
    look like plain http (a proxy that cannot send ``X-Forwarded-Proto``).
    """
    if settings.secret_key is None:
        raise ValueError("a secret key is required for sessions")
    fernet = Fernet(_urlsafe(derive_key(settings.secret_key, "session")))

    def storage(*, https: bool) -> _Storage:
        return _Storage(
            fernet,
            cookie_name=("__Host-" if https else "") + settings.session_cookie_name,
            max_age=settings.session_max_age,
            httponly=True,
            samesite="Lax",
            secure=https,
            encoder=json.dumps,
            decoder=json.loads,
        )

    https = storage(https=True)
    plain = https if settings.session_cookie_secure else storage(https=False)
    return session_middleware(_SchemeStorage(plain, https))


def _urlsafe(key: bytes) -> bytes:
    import base64

    return base64.urlsafe_b64encode(key)


async def rotate_session(request: web.Request, keep: tuple[str, ...] = ()) -> Session:
    """Replace the session with a new one (at login and logout).

    Only the keys in *keep* survive; the session id and with it the CSRF token
    are new, so a session fixed by an attacker before login is worthless after.
    """
    old = await get_session(request)
    kept = {key: old[key] for key in keep if key in old}
    old.invalidate()
    session = await new_session(request)
    session.update(kept)
    session[SESSION_ID] = secrets.token_urlsafe(16)
    return session


class AppSession(MutableMapping[str, Any]):
    """One app's corner of the shared session: its keys are stored as ``app.key``.

    Values must be JSON-serialisable; assign a new value rather than mutating a
    stored list in place, or the change is not saved.
    """

    def __init__(self, session: Session, namespace: str) -> None:
        self._session = session
        self._prefix = f"{namespace}."

    def __getitem__(self, key: str) -> Any:
        return self._session[self._prefix + key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._session[self._prefix + key] = value

    def __delitem__(self, key: str) -> None:
        del self._session[self._prefix + key]

    def __iter__(self) -> Iterator[str]:
        n = len(self._prefix)
        return (key[n:] for key in list(self._session) if key.startswith(self._prefix))

    def __len__(self) -> int:
        return sum(1 for _ in self)


async def app_session(request: web.Request, namespace: str) -> AppSession:
    """The *namespace* part of this request's session."""
    return AppSession(await get_session(request), namespace)
