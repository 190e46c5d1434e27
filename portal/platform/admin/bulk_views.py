"""Bulk actions on the rows ticked in a list: a confirmation page (GET), then the change (POST).

The list's form sends ``action`` and the ticked ``ids`` here by GET, which
changes nothing; the confirmation page posts them back with the CSRF token.
``back`` carries the list's query string, so the list comes back as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl

from aiohttp import web
from yarl import URL

from portal.platform.admin import editing, queries
from portal.platform.admin.options import DELETE, Action
from portal.platform.admin.resolve import Target, parse_ids, staff_user, target
from portal.platform.db.engine import db_key
from portal.platform.edge.formdata import read_form
from portal.platform.exceptions import Conflict
from portal.platform.sessions.flash import flash
from portal.platform.templating import render

__all__ = ["apply", "confirm"]
_LIST_PARAMS = ("q", "o", "p")


def _list_url(request: web.Request, found: Target, back: str) -> URL:
    """The list with the query it had (only the list's own parameters: no open redirect)."""
    kept = {
        key: value
        for key, value in parse_qsl(back[:2000])
        if key in _LIST_PARAMS or key.startswith("f_")
    }
    return found.url(request, "list", query=kept)


def _back(request: web.Request, found: Target, back: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(location=_list_url(request, found, back))


async def _chosen(
    request: web.Request, found: Target, data: Mapping[str, str], ids: list[int]
) -> Action:
    """The action asked for; back to the list with a message when it cannot run."""
    name = data.get("action", "")
    action = found.admin.action(name)
    if name == DELETE.name and found.admin.can_delete:
        action = DELETE
    if action is None:
        await flash(request, "Choose an action for the selected rows.", "warning")
        raise _back(request, found, data.get("back", ""))
    if not ids:
        await flash(request, f"Select at least one {found.admin.singular} first.", "warning")
        raise _back(request, found, data.get("back", ""))
    return action


async def confirm(request: web.Request) -> web.Response:
    """What the action would do to the selected rows (and, for delete, their cascades)."""
    found = target(request)
    admin = found.admin
    ids = parse_ids(request.query.getall("ids", []))
    action = await _chosen(request, found, request.query, ids)
    async with request.config_dict[db_key].acquire() as conn:
        rows = await queries.get_rows(conn, admin.table, ids)
        if not rows:
            await flash(request, f"None of the selected {admin.plural} exist any more.", "warning")
            raise _back(request, found, request.query.get("back", ""))
        dependents = []
        if action is DELETE:
            found_ids = [row["id"] for row in rows]
            dependents = await queries.dependents(conn, found.site.tables(), admin.table, found_ids)
    context = {
        "target": found,
        "admin": admin,
        "action": action,
        "rows": [(row["id"], editing.title_of(admin, row)) for row in rows],
        "consequences": editing.consequences(found.site, dependents),
        "single": False,
        "back": request.query.get("back", ""),
        "cancel_url": str(_list_url(request, found, request.query.get("back", ""))),
    }
    return await render(request, "admin/confirm.html", context)


async def apply(request: web.Request) -> web.StreamResponse:
    """Run the confirmed action on the selected rows, then go back to the list."""
    found = target(request)
    admin = found.admin
    user = await staff_user(request)
    post = await read_form(request)
    data = {key: str(value) for key, value in post.items() if key != "ids"}
    ids = parse_ids(post.getall("ids", []))
    action = await _chosen(request, found, data, ids)
    async with request.config_dict[db_key].acquire() as conn:
        try:
            if action is DELETE:
                done = await editing.delete(conn, user, found.app.name, admin, ids)
            else:
                done = await editing.apply_action(conn, user, found.app.name, admin, action, ids)
        except Conflict as exc:
            await flash(request, f"Nothing was changed: {exc}.", "error")
            raise _back(request, found, data.get("back", "")) from exc
    await flash(request, f"{action.done} {admin.count(len(done))}.", "success")
    raise _back(request, found, data.get("back", ""))
