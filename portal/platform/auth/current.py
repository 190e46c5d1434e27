"""Who is logged in: the user id in the shared session, checked against the database."""

from __future__ import annotations

import time
from typing import TypeGuard

from aiohttp import web
from aiohttp_session import Session, get_session

from portal.platform.auth.tokens import Bearer
from portal.platform.auth.users import User, end_sessions, get_user
from portal.platform.db.engine import db_key
from portal.platform.exceptions import NotFound
from portal.platform.keys import settings_key
from portal.platform.sessions.storage import rotate_session
from portal.settings import Settings

__all__ = ["bearer_key", "current_user", "log_in", "log_out", "session_user_id", "user_key"]

#: The logged-in user of this request, loaded at most once per request.
user_key: web.RequestKey[User | None] = web.RequestKey("user_key")
#: The API token this request's ``Authorization: Bearer`` header presented, once
#: looked up (None: unknown, revoked, or its user inactive): the rate limiter
#: authenticates a request before the endpoint does, and the endpoint reuses it.
bearer_key: web.RequestKey[Bearer | None] = web.RequestKey("bearer_key")

_USER_ID = "_auth.user_id"
#: The user's session version when this session logged in (platform_0004).
_VERSION = "_auth.version"
#: When the session logged in, and when it was last used (Unix seconds).
_LOGIN_AT = "_auth.login_at"
_SEEN_AT = "_auth.seen_at"
#: "Last used" is rewritten at most this often: each rewrite is a new cookie.
_SEEN_RESOLUTION = 60

#: The clock sessions are timed by (tests move it).
_now = time.time


async def current_user(request: web.Request) -> User | None:
    """The active user this request's session belongs to, or None."""
    if user_key in request:
        return request[user_key]
    session = await get_session(request)
    user_id = session.get(_USER_ID)
    user: User | None = None
    if _is_id(user_id):
        try:
            async with request.config_dict[db_key].acquire() as conn:
                user = await get_user(conn, user_id)
        except NotFound:
            user = None
        if user is not None and (
            not user.is_active or session.get(_VERSION) != user.session_version
        ):
            # Deactivated, or the session was ended (logout anywhere, a new
            # password): a copied cookie is as anonymous as the original.
            user = None
        elif user is not None and _expired(session, user, request.config_dict[settings_key]):
            for key in (_USER_ID, _VERSION, _LOGIN_AT, _SEEN_AT):
                session.pop(key, None)
            user = None
    request[user_key] = user
    return user


def _is_id(value: object) -> TypeGuard[int]:
    """Whether a session value is a user id: an int, and not a bool (which is one too)."""
    return type(value) is int


def _expired(session: Session, user: User, settings: Settings) -> bool:
    """Whether the login is too old or idle too long; else note that it is in use."""
    now = _now()
    login_at, seen_at = session.get(_LOGIN_AT), session.get(_SEEN_AT)
    if not isinstance(login_at, int | float) or not isinstance(seen_at, int | float):
        return True
    if now - login_at > settings.session_lifetime:
        return True
    idle = settings.staff_idle_timeout if user.is_staff else settings.user_idle_timeout
    if idle and now - seen_at > idle:
        return True
    if now - seen_at >= _SEEN_RESOLUTION:
        session[_SEEN_AT] = int(now)
    return False


async def session_user_id(request: web.Request) -> int | None:
    """The id this session logged in as, whether or not that user is still active."""
    user_id = (await get_session(request)).get(_USER_ID)
    return user_id if _is_id(user_id) else None


async def log_in(request: web.Request, user: User) -> None:
    """Start a new session for *user*: new session id, new CSRF token."""
    session = await rotate_session(request)
    session[_USER_ID] = user.id
    session[_VERSION] = user.session_version
    session[_LOGIN_AT] = session[_SEEN_AT] = int(_now())
    request[user_key] = user


async def log_out(request: web.Request) -> None:
    """End every session of the logged-in user, copies included; then start afresh.

    The session lives in the cookie, so forgetting it here would leave any
    copy of the cookie valid: the user's session version is raised instead.
    """
    user = await current_user(request)
    if user is not None:
        async with request.config_dict[db_key].acquire() as conn:
            await end_sessions(conn, user.id)
    await rotate_session(request)
    request[user_key] = None
