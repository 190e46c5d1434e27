"""``/login`` and ``/logout``, shared by every app."""

from __future__ import annotations

import logging
import math
from urllib.parse import urlsplit

from aiohttp import hdrs, web

from portal.platform.auth import throttle
from portal.platform.auth.passwords import verify_password
from portal.platform.auth.session import current_user, log_in, log_out
from portal.platform.auth.users import password_hash_of, touch_last_login
from portal.platform.flash import flash
from portal.platform.formdata import read_form
from portal.platform.keys import db_key
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

    Throttled per account (:mod:`portal.platform.auth.throttle`); every
    attempt is logged on ``portal.auth`` with its outcome and peer address.
    """
    form = await read_form(request)
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    target = str(form.get("next", ""))
    if "\x00" in username:
        # No username holds NUL, and PostgreSQL takes none in a parameter:
        # refused like any unknown name (without the NUL shown back).
        return await _refused(request, username.replace("\x00", ""), target)
    account = throttle.account_key(username)
    async with request.config_dict[db_key].acquire() as conn, conn.begin():
        await throttle.lock_account(conn, account)
        wait = await throttle.retry_after(conn, account)
        if wait is not None:
            auth_log.warning("login throttled for %r from %s", account, request.remote)
            return await _refused(request, username, target, wait)
        found = await password_hash_of(conn, username) if username else None
        user, password_hash = found if found is not None else (None, None)
        # Always verify, even without a user, so timing does not reveal which names exist.
        valid = await verify_password(password_hash, password)
        succeeded = user is not None and valid and user.is_active
        await throttle.record(conn, account, succeeded=succeeded)
        if not succeeded or user is None:
            auth_log.warning("login failed for %r from %s", account, request.remote)
            return await _refused(request, username, target)
        await touch_last_login(conn, user.id)
    auth_log.info("login succeeded for %r from %s", account, request.remote)
    await log_in(request, user)
    await flash(request, f"Welcome, {user.username}.", "success")
    raise web.HTTPSeeOther(location=safe_next(request, target))


async def _refused(
    request: web.Request, username: str, target: str, retry_after: int | None = None
) -> web.Response:
    """The login form again: 400 with one message for any bad credentials, or 429."""
    if retry_after is None:
        error, status = "Please enter a correct username and password.", 400
    else:
        minutes = math.ceil(retry_after / 60)
        error = (
            "Too many failed attempts for this account. "
            f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
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
