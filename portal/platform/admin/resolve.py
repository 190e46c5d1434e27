"""What an admin URL points at: the registered table, the row, the selected ids.

Every table name in a URL is looked up among the registrations before any
SQL is built, and every id is checked to be a possible key: a name or an id
that does not resolve is the 404 page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from aiohttp import web
from yarl import URL

from portal.platform.admin.options import AdminTable
from portal.platform.admin.registry import AdminApp, AdminSite, admin_site
from portal.platform.auth.current import current_user
from portal.platform.auth.users import User
from portal.platform.urls import url_for

__all__ = ["MAX_SELECTED", "Target", "parse_ids", "row_id", "staff_user", "target"]

#: The most rows one bulk action takes.
MAX_SELECTED = 1000
_MAX_ID = 2**31


@dataclass(frozen=True, slots=True)
class Target:
    """The admin site, and the section and table a URL names."""

    site: AdminSite
    app: AdminApp
    admin: AdminTable

    def url(
        self,
        request: web.Request,
        name: str,
        *,
        query: Mapping[str, str] | None = None,
        **parts: str | int,
    ) -> URL:
        """The URL of admin route *name* for this table (``list``, ``change``...)."""
        return url_for(
            request,
            f"admin:{name}",
            query=query,
            app=self.app.name,
            table=self.admin.name,
            **parts,
        )


def target(request: web.Request) -> Target:
    """The registered table ``/admin/<app>/<table>/...`` names; 404 if none."""
    site = admin_site(request)
    try:
        app, admin = site.get(request.match_info["app"], request.match_info["table"])
    except LookupError:
        raise web.HTTPNotFound(text="There is no such table in the admin.") from None
    return Target(site, app, admin)


def row_id(request: web.Request) -> int:
    """The row id in the URL; 404 for one no integer key can hold."""
    value = int(request.match_info["row_id"])
    if value >= _MAX_ID:
        raise web.HTTPNotFound(text="There is no such row.")
    return value


def parse_ids(values: Iterable[object]) -> list[int]:
    """The valid, distinct ids among posted or queried *values*, in order."""
    ids: dict[int, None] = {}
    for value in values:
        text = str(value).strip()
        # isdecimal, not isdigit: "²" is a digit that int() refuses.
        if text.isdecimal() and int(text) < _MAX_ID:
            ids[int(text)] = None
        if len(ids) >= MAX_SELECTED:
            break
    return list(ids)


async def staff_user(request: web.Request) -> User:
    """Who is making this change (the staff guard lets no one else this far)."""
    user = await current_user(request)
    if user is None or not user.is_staff:
        raise web.HTTPForbidden(text="The admin is for staff only.")
    return user
