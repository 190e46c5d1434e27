"""``/login`` and ``/logout``, shared by every app."""

from __future__ import annotations

import logging
import math
from urllib.parse import urlsplit

from aiohttp import hdrs, web

from portal.platform.auth import throttle
from portal.platform.auth.current import current_user, log_in, log_out
from portal.platform.auth.passwords import hash_slots_key, verify_password
from portal.platform.auth.users import User, password_hash_of, touch_last_login
from portal.platform.db.engine import db_key
from portal.platform.edge.audit import refusal_reason_key
from portal.platform.edge.formdata import read_form
from portal.platform.keys import settings_key
from portal.platform.sessions.flash import flash
from portal.platform.templating import render
from portal.platform.urls import url_for

__all__ = ["login", "login_form", "logout", "safe_next"]

auth_log = logging.getLogger("portal.auth")


def safe_next(request: web.Request, target: str | None) -> str:
    """*target* if it is a path on this site, else the home page (no open redirect)."""
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
            and "\\" not in target
        ):
            return target
    return str(url_for(request, "home"))


async def login_form(request: web.Request) -> web.Response:
    """The login page; ``?next=`` says where to go afterwards."""
    return await render(
        request,
        "auth/login.html",
        {"next": request.query.get("next", ""), "username": "", "error": None},
    )


async def login(request: web.Request) -> web.StreamResponse:
    """Check the credentials; on success rotate the session and go to ``next``.

    Throttled per account and client address (:mod:`portal.platform.auth.throttle`).
    No pooled connection is held while the password is checked: the attempt
    is reserved (counted as a failure) in one short transaction, the check
    waits its turn among this process's :data:`hash_slots_key`, and a success
    takes a connection again to clear the count. Attempts on one account from
    one address take turns, so those in progress never crowd the limit. Every
    attempt is logged on ``portal.auth`` with its outcome and the client's address.
    """
    form = await read_form(request)
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    target = str(form.get("next", ""))
    if "\x00" in username:
        # No username holds NUL, and PostgreSQL takes none in a parameter:
        # refused like any unknown name (without the NUL shown back).
        return await _refused(request, username.replace("\x00", ""), target)
    attempt = throttle.Attempt.of(username, request.remote)
    async with request.config_dict[throttle.attempt_locks_key](attempt):
        try:
            user = await _check(request, attempt, username, password)
        except throttle.Throttled as refused:
            # Logged once, as a security event (portal.security), with this reason.
            response = await _refused(request, username, target, refused.retry_after)
            response[refusal_reason_key] = (
                f"login throttled for {attempt.account!r} ({refused.scope} limit)"
            )
            return response
    if user is None:
        auth_log.warning("login failed for %r from %s", attempt.account, request.remote)
        return await _refused(request, username, target)
    auth_log.info("login succeeded for %r from %s", attempt.account, request.remote)
    await log_in(request, user)
    await flash(request, f"Welcome, {user.username}.", "success")
    raise web.HTTPSeeOther(location=safe_next(request, target))


async def _check(
    request: web.Request, attempt: throttle.Attempt, username: str, password: str
) -> User | None:
    """The user *username* and *password* log in as, or None; :class:`throttle.Throttled`."""
    engine = request.config_dict[db_key]
    limits = throttle.Limits.of(request.config_dict[settings_key])
    turns = request.config_dict[throttle.attempt_locks_key]
    async with turns.reserving, engine.acquire() as conn, conn.begin():
        await throttle.reserve(conn, attempt, limits)
        found = await password_hash_of(conn, username) if username else None
    user, password_hash = found if found is not None else (None, None)
    async with request.config_dict[hash_slots_key]:
        # Always verify, even without a user, so timing does not reveal which names exist.
        valid = await verify_password(password_hash, password)
    if user is None or password_hash is None or not valid or not user.is_active:
        # The reservation stays: it is this failure's record.
        return None
    async with engine.acquire() as conn, conn.begin():
        current = await touch_last_login(conn, user.id, password_hash)
        if current is not None:
            await throttle.clear(conn, attempt)
    return current


async def _refused(
    request: web.Request, username: str, target: str, retry_after: int | None = None
) -> web.Response:
    """The login form again: 400 with one message for any bad credentials, or 429."""
    if retry_after is None:
        error, status = "Please enter a correct username and password.", 400
    else:
        minutes = math.ceil(retry_after / 60)
        error = (
            f"Too many failed attempts. Try again in {minutes} minute{'s' if minutes != 1 else ''}."
        )
        status = 429
    response = await render(
        request,
        "auth/login.html",
        {"next": target, "username": username, "error": error},
        status=status,
    )
    if retry_after is not None:
        response.headers[hdrs.RETRY_AFTER] = str(retry_after)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    """End the session (POST only, with the CSRF token) and go home."""
    was_logged_in = await current_user(request) is not None
    await log_out(request)
    if was_logged_in:
        await flash(request, "You have logged out.", "info")
    raise web.HTTPSeeOther(location=url_for(request, "home"))
