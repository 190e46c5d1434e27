"""``/login`` and ``/logout``, shared by every app."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from portal.platform.auth.passwords import verify_password
from portal.platform.auth.session import current_user, log_in, log_out
from portal.platform.auth.users import password_hash_of, touch_last_login
from portal.platform.flash import flash
from portal.platform.keys import db_key
from portal.platform.templating import render
from portal.platform.urls import url_for

__all__ = ["login", "login_form", "logout", "safe_next"]


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
    """Check the credentials; on success rotate the session and go to ``next``."""
    form = await request.post()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    target = str(form.get("next", ""))
    async with request.config_dict[db_key].acquire() as conn:
        found = await password_hash_of(conn, username) if username else None
        user, password_hash = found if found is not None else (None, None)
        # Always verify, even without a user, so timing does not reveal which names exist.
        valid = await verify_password(password_hash, password)
        if user is None or not valid or not user.is_active:
            return await render(
                request,
                "auth/login.html",
                {
                    "next": target,
                    "username": username,
                    "error": "Please enter a correct username and password.",
                },
                status=400,
            )
        await touch_last_login(conn, user.id)
    await log_in(request, user)
    await flash(request, f"Welcome, {user.username}.", "success")
    raise web.HTTPSeeOther(location=safe_next(request, target))


async def logout(request: web.Request) -> web.StreamResponse:
    """End the session (POST only, with the CSRF token) and go home."""
    was_logged_in = await current_user(request) is not None
    await log_out(request)
    if was_logged_in:
        await flash(request, "You have logged out.", "info")
    raise web.HTTPSeeOther(location=url_for(request, "home"))
