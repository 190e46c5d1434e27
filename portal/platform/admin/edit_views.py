"""The admin's add, change and delete pages: GET shows the form, POST stores and redirects.

Thin: bind the posted form, let :mod:`editing` store it in one transaction,
then flash and redirect (post/redirect/get); an invalid form is shown again
with the input kept and each error beside its field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from portal.platform.admin import editing, forms, queries
from portal.platform.admin.forms import AdminForm
from portal.platform.admin.options import DELETE
from portal.platform.admin.resolve import Target, row_id, staff_user, target
from portal.platform.db.engine import Connection, db_key
from portal.platform.edge.formdata import read_form
from portal.platform.exceptions import Conflict, NotFound
from portal.platform.sessions.flash import flash
from portal.platform.sessions.storage import app_session
from portal.platform.templating import render
from portal.platform.urls import url_for

__all__ = ["add", "add_form", "change", "change_form", "delete", "delete_form"]

_PENDING_SECRET = "new_secret"  # noqa: S105 (a session key, not a secret)


@dataclass(frozen=True, slots=True)
class _Children:
    """Each inline's children to put in the form, and how many there are in all."""

    rows: dict[str, list[dict[str, Any]]]
    totals: dict[str, int]


async def _children(
    conn: Connection, found: Target, parent_id: int, posted: Mapping[str, list[int]] | None = None
) -> _Children:
    """The first :data:`forms.INLINE_ROWS` children of each inline, or those *posted*.

    A parent may have any number of children (a question with 20,000
    choices): the form holds the first ones, and a link leads to the rest.
    """
    rows: dict[str, list[dict[str, Any]]] = {}
    totals: dict[str, int] = {}
    for inline in found.admin.inlines:
        table, column, name = inline.table, inline.fk_column, inline.table.name
        ids = None if posted is None else posted.get(name, [])
        if ids is None:
            found_rows = await queries.children(
                conn, table, column, parent_id, limit=forms.INLINE_ROWS
            )
        elif ids:
            found_rows = await queries.children(
                conn, table, column, parent_id, limit=len(ids), ids=ids
            )
        else:
            found_rows = []
        rows[name] = found_rows
        if ids is None and len(found_rows) < forms.INLINE_ROWS:
            totals[name] = len(found_rows)  # all of them: no count needed
        else:
            totals[name] = await queries.count_children(conn, table, column, parent_id)
    return _Children(rows, totals)


def _link_children(request: web.Request, found: Target, form: AdminForm, parent_id: int) -> None:
    """Point each inline at its table's list filtered to *parent_id*, where the admin has one."""
    for inline_form in form.inlines:
        inline = inline_form.inline
        registered = found.site.find(inline.table)
        if registered is None or inline.fk_column not in registered[1].filters:
            continue
        section, child_admin = registered
        inline_form.all_url = str(
            url_for(
                request,
                "admin:list",
                query={f"f_{inline.fk_column}": parent_id},
                app=section.name,
                table=child_admin.name,
            )
        )


async def _row(conn: Connection, found: Target, wanted: int) -> dict[str, Any]:
    try:
        return await queries.get_row(conn, found.admin.table, wanted)
    except NotFound:
        raise web.HTTPNotFound(text=f"There is no {found.admin.singular} {wanted}.") from None


async def _form_page(
    request: web.Request,
    found: Target,
    form: AdminForm,
    *,
    row: dict[str, Any] | None = None,
    secret: str | None = None,
    status: int = 200,
) -> web.Response:
    context = {
        "target": found,
        "admin": found.admin,
        "form": form,
        "row": row,
        "title": editing.title_of(found.admin, row) if row else "",
        "secret": secret,
    }
    return await render(request, "admin/form.html", context, status=status)


def _where_next(request: web.Request, found: Target, post: Any, row_id_: int) -> web.HTTPSeeOther:
    """Where a saved form goes: on editing, to add another, or back to the list."""
    if "_continue" in post:
        location = found.url(request, "change", row_id=row_id_)
    elif "_addanother" in post:
        location = found.url(request, "add")
    else:
        location = found.url(request, "list")
    return web.HTTPSeeOther(location=location)


async def add_form(request: web.Request) -> web.Response:
    """An empty form for a new row (with the declared initial values)."""
    found = target(request)
    if not found.admin.can_add:
        raise web.HTTPNotFound(text=f"A {found.admin.singular} cannot be added here.")
    form = forms.unbound(found.admin)
    async with request.config_dict[db_key].acquire() as conn:
        await forms.load_options(conn, found.site, form)
    return await _form_page(request, found, form)


async def add(request: web.Request) -> web.StreamResponse:
    """Store a new row, or show the form again with its errors."""
    found = target(request)
    admin = found.admin
    if not admin.can_add:
        raise web.HTTPNotFound(text=f"A {admin.singular} cannot be added here.")
    user = await staff_user(request)
    post = await read_form(request)
    form = forms.bind(admin, post)
    async with request.config_dict[db_key].acquire() as conn:
        await forms.check_references(conn, form)
        if form.valid:
            try:
                saved = await editing.create(conn, user, found.app.name, form)
            except editing.Rejected:
                pass
            else:
                title = editing.title_of(admin, saved.row)
                await flash(request, f"The {admin.singular} “{title}” was added.", "success")
                if saved.secret is not None:
                    # Shown once, by the next page; never stored anywhere else.
                    session = await app_session(request, "admin")
                    session[_PENDING_SECRET] = [
                        found.app.name,
                        admin.name,
                        saved.row["id"],
                        saved.secret,
                    ]
                    raise web.HTTPSeeOther(
                        location=found.url(request, "change", row_id=saved.row["id"])
                    )
                raise _where_next(request, found, post, saved.row["id"])
        await forms.load_options(conn, found.site, form)
    return await _form_page(request, found, form, status=400)


async def _pop_secret(request: web.Request, found: Target, wanted: int) -> str | None:
    """The secret of the row just created, once; it leaves the session either way."""
    session = await app_session(request, "admin")
    pending = session.pop(_PENDING_SECRET, None)
    if not isinstance(pending, list) or len(pending) != 4:
        return None
    if pending[:3] != [found.app.name, found.admin.name, wanted]:
        return None
    return str(pending[3])


async def change_form(request: web.Request) -> web.Response:
    """A row's form, its inline children included."""
    found = target(request)
    wanted = row_id(request)
    async with request.config_dict[db_key].acquire() as conn:
        row = await _row(conn, found, wanted)
        children = await _children(conn, found, wanted)
        form = forms.unbound(found.admin, row=row, children=children.rows, totals=children.totals)
        await forms.load_options(conn, found.site, form)
    _link_children(request, found, form, wanted)
    secret = await _pop_secret(request, found, wanted)
    return await _form_page(request, found, form, row=row, secret=secret)


async def change(request: web.Request) -> web.StreamResponse:
    """Store the edits of a row and its inline children, or show the errors."""
    found = target(request)
    admin = found.admin
    wanted = row_id(request)
    user = await staff_user(request)
    post = await read_form(request)
    async with request.config_dict[db_key].acquire() as conn:
        row = await _row(conn, found, wanted)
        if not admin.can_change:
            raise web.HTTPNotFound(text=f"A {admin.singular} cannot be changed here.")
        children = await _children(conn, found, wanted, forms.posted_ids(admin, post))
        form = forms.bind(admin, post, row=row, children=children.rows, totals=children.totals)
        await forms.check_references(conn, form)
        if form.valid:
            try:
                saved = await editing.change(conn, user, found.app.name, wanted, form)
            except NotFound:
                raise web.HTTPNotFound(text=f"There is no {admin.singular} {wanted}.") from None
            except editing.Rejected:
                pass
            else:
                title = editing.title_of(admin, saved.row)
                if saved.summary == editing.NO_CHANGES:
                    await flash(request, f"The {admin.singular} “{title}” was not changed.")
                else:
                    await flash(request, f"The {admin.singular} “{title}” was changed.", "success")
                raise _where_next(request, found, post, wanted)
        await forms.load_options(conn, found.site, form)
    _link_children(request, found, form, wanted)
    return await _form_page(request, found, form, row=row, status=400)


async def delete_form(request: web.Request) -> web.Response:
    """What deleting a row would take with it, and the button to do it."""
    found = target(request)
    wanted = row_id(request)
    if not found.admin.can_delete:
        raise web.HTTPNotFound(text=f"A {found.admin.singular} cannot be deleted here.")
    async with request.config_dict[db_key].acquire() as conn:
        row = await _row(conn, found, wanted)
        dependents = await queries.dependents(
            conn, found.site.tables(), found.admin.table, [wanted]
        )
    context = {
        "target": found,
        "admin": found.admin,
        "action": DELETE,
        "rows": [(row["id"], editing.title_of(found.admin, row))],
        "consequences": editing.consequences(found.site, dependents),
        "single": True,
        "back": "",
        "cancel_url": str(found.url(request, "change", row_id=wanted)),
    }
    return await render(request, "admin/confirm.html", context)


async def delete(request: web.Request) -> web.StreamResponse:
    """Delete a row (and its cascade), then go back to the list."""
    found = target(request)
    admin = found.admin
    wanted = row_id(request)
    if not admin.can_delete:
        raise web.HTTPNotFound(text=f"A {admin.singular} cannot be deleted here.")
    user = await staff_user(request)
    async with request.config_dict[db_key].acquire() as conn:
        try:
            deleted = await editing.delete(conn, user, found.app.name, admin, [wanted])
        except Conflict as exc:
            await flash(request, f"The {admin.singular} was not deleted: {exc}.", "error")
            raise web.HTTPSeeOther(location=found.url(request, "delete", row_id=wanted)) from exc
    if not deleted:
        raise web.HTTPNotFound(text=f"There is no {admin.singular} {wanted}.")
    title = editing.title_of(admin, deleted[0])
    await flash(request, f"The {admin.singular} “{title}” was deleted.", "success")
    raise web.HTTPSeeOther(location=found.url(request, "list"))
