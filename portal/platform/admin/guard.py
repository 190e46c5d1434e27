"""The staff guard: one middleware on the admin sub-app, so no view repeats the check."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from portal.platform.auth.current import current_user, session_user_id
from portal.platform.auth.users import get_user
from portal.platform.db.engine import db_key
from portal.platform.exceptions import NotFound
from portal.platform.urls import url_for

__all__ = ["staff_only"]


@web.middleware
async def staff_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Let active staff through; send visitors to log in; refuse everyone else (403).

    Admin pages are never cached: they show private data, and a new API
    token's secret. The stylesheet is neither private nor worth a login.
    """
    route = request.match_info.route
    if route.resource is not None and route.resource.name == "static":
        return await handler(request)
    user = await current_user(request)
    if user is None:
        if await _deactivated(request):
            raise web.HTTPForbidden(text="Your account is inactive.")
        login = url_for(request, "login", query={"next": request.path_qs})
        raise web.HTTPSeeOther(location=login)
    if not user.is_staff:
        raise web.HTTPForbidden(text="The admin is for staff only.")
    response = await handler(request)
    response.headers["Cache-Control"] = "no-store"
    return response


async def _deactivated(request: web.Request) -> bool:
    """Whether the session still names a user who has been deactivated.

    Such a session no longer counts as logged in, but asking them to log in
    again could not work: they are refused instead.
    """
    user_id = await session_user_id(request)
    if user_id is None:
        return False
    async with request.config_dict[db_key].acquire() as conn:
        try:
            user = await get_user(conn, user_id)
        except NotFound:
            return False
    return not user.is_active
