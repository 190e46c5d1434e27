"""The admin's reading pages: the dashboard, a table's list and a row's history.

Thin: resolve the URL against the registrations, run the queries, render.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from portal.platform.admin import changelist, history, queries
from portal.platform.admin.editing import title_of
from portal.platform.admin.forms import OPTIONS_LIMIT
from portal.platform.admin.listing import parse_list_query
from portal.platform.admin.registry import AdminSite, admin_site
from portal.platform.admin.resolve import Target, parse_ids, row_id, target
from portal.platform.db.engine import Connection, db_key
from portal.platform.templating import render
from portal.platform.urls import url_for

__all__ = ["changelist_page", "history_page", "index"]

#: How many entries the dashboard's recent changes show.
RECENT = 10


@dataclass(frozen=True, slots=True)
class LoggedChange:
    """A log entry as a page shows it, with a link when the row is still in the admin."""

    entry: history.Entry
    label: str
    url: str | None


def _logged(
    request: web.Request, site: AdminSite, entries: Sequence[history.Entry]
) -> list[LoggedChange]:
    shown = []
    for entry in entries:
        try:
            _, admin = site.get(entry.app, entry.table_name)
        except LookupError:
            shown.append(LoggedChange(entry, entry.table_name, None))
            continue
        name = "admin:history" if entry.action == "delete" else "admin:change"
        url = url_for(request, name, app=entry.app, table=entry.table_name, row_id=entry.row_id)
        shown.append(LoggedChange(entry, admin.singular, str(url)))
    return shown


async def index(request: web.Request) -> web.Response:
    """Every registered table with its row count, and the latest changes."""
    site = admin_site(request)
    async with request.config_dict[db_key].acquire() as conn:
        counts = {
            (app.name, admin.name): await queries.count_rows(conn, admin.table)
            for app in site
            for admin in app.tables
        }
        recent = await history.recent(conn, RECENT)
    context = {"site": site, "counts": counts, "recent": _logged(request, site, recent)}
    return await render(request, "admin/index.html", context)


async def _fk_data(
    conn: Connection, found: Target, rows: Sequence[Mapping[str, Any]]
) -> tuple[dict[str, dict[int, str]], dict[str, list[tuple[int, str]] | None]]:
    """Titles of the rows the page's foreign keys point at, and each FK filter's choices."""
    admin = found.admin
    titles: dict[str, dict[int, str]] = {}
    for name in admin.list_display:
        column = admin.table.c[name]
        for key in column.foreign_keys:
            title = found.site.title_column(key.column.table)
            ids = [row[name] for row in rows if row[name] is not None]
            titles[name] = await queries.titles(conn, title, ids)
    options: dict[str, list[tuple[int, str]] | None] = {}
    for name in admin.filters:
        for key in admin.table.c[name].foreign_keys:
            title = found.site.title_column(key.column.table)
            options[name] = await queries.options(conn, title, OPTIONS_LIMIT)
    return titles, options


async def changelist_page(request: web.Request) -> web.Response:
    """A table's rows: searched, filtered, sorted and paginated as the URL says."""
    found = target(request)
    admin = found.admin
    query = parse_list_query(admin, request.query)
    columns = list(dict.fromkeys(["id", admin.title, *admin.list_display]))
    async with request.config_dict[db_key].acquire() as conn:
        page = await queries.list_page(conn, admin.table, columns, admin.search, query)
        total = await queries.count_rows(conn, admin.table) if query.filtered else page.total
        titles, options = await _fk_data(conn, found, page.rows)

    def link(params: Mapping[str, str]) -> str:
        return str(found.url(request, "list", query=params))

    view = changelist.build(admin, query, page, link=link, titles=titles, options=options)
    context = {
        "target": found,
        "admin": admin,
        "query": query,
        "page": page,
        "total": total,
        "view": view,
        "back": request.query_string,
    }
    return await render(request, "admin/list.html", context)


def _before(request: web.Request) -> int | None:
    """The ``?before=`` entry id a history page starts at; None for the newest; 400 if bad."""
    text = request.query.get("before", "")
    if text == "":
        return None
    ids = parse_ids([text])
    if not ids or ids[0] == 0:
        raise web.HTTPBadRequest(text="There is no such page: “before” must be an entry's id.")
    return ids[0]


async def history_page(request: web.Request) -> web.Response:
    """The logged changes of one row, newest first, a page at a time (also for a deleted row)."""
    found = target(request)
    admin = found.admin
    wanted = row_id(request)
    before = _before(request)
    async with request.config_dict[db_key].acquire() as conn:
        entries, older = await history.for_row(
            conn, found.app.name, admin.name, wanted, before=before
        )
        rows = await queries.get_rows(conn, admin.table, [wanted])
    if not rows and not entries and before is None:
        raise web.HTTPNotFound(text="There is no such row.")

    def page_url(start: int | None) -> str:
        query = None if start is None else {"before": str(start)}
        return str(found.url(request, "history", row_id=wanted, query=query))

    context = {
        "target": found,
        "admin": admin,
        "row_id": wanted,
        "title": title_of(admin, rows[0]) if rows else f"#{wanted}",
        "exists": bool(rows),
        "entries": [(entry, history.ordered_changes(admin, entry.changes)) for entry in entries],
        "field_label": lambda name: admin.label_of(name) if name in admin.table.c else name,
        "older_url": page_url(entries[-1].id) if older else None,
        "newest_url": page_url(None) if before is not None else None,
    }
    return await render(request, "admin/history.html", context)
