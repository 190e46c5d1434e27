"""Creating, changing and deleting rows through the admin, each change with its log entry.

Every function runs one transaction: the row, its inline children and the
change log entry are stored together or not at all. A refusal by the
database (a duplicate name) is put on the form beside its field and the
transaction rolled back (:class:`Rejected`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from portal.platform.admin import history, queries
from portal.platform.admin.fields import to_json
from portal.platform.admin.forms import AdminForm, BoundField, InlineForm
from portal.platform.admin.options import Action, AdminTable
from portal.platform.admin.queries import Dependents
from portal.platform.admin.registry import AdminSite
from portal.platform.auth.users import User
from portal.platform.db.engine import Connection
from portal.platform.exceptions import Conflict, Invalid, NotFound, PortalError

__all__ = [
    "NO_CHANGES",
    "Consequence",
    "Rejected",
    "Saved",
    "apply_action",
    "change",
    "consequences",
    "create",
    "delete",
    "title_of",
]

Row = dict[str, Any]
_TITLE_LENGTH = 80

#: The summary of a save that changed nothing (and is not logged).
NO_CHANGES = "No fields changed."


class Rejected(PortalError):
    """The database refused the change; the reasons are on the form."""


@dataclass(frozen=True, slots=True)
class Saved:
    """A row as stored, what the log says about it, and a secret to show once."""

    row: Row
    summary: str
    secret: str | None = None


def title_of(admin: AdminTable, row: Row) -> str:
    """How a row is named on pages and in the log: its title column, or ``#id``."""
    if admin.title == "id":
        return f"#{row['id']}"
    text = str(row.get(admin.title) or f"#{row['id']}")
    return text if len(text) <= _TITLE_LENGTH else text[: _TITLE_LENGTH - 1] + "…"


def _message(singular: str, bound: BoundField | None, exc: PortalError) -> str:
    if isinstance(exc, Conflict) and bound is not None:
        return f"A {singular} with this {bound.field.label.lower()} already exists."
    if bound is not None and bound.field.references is not None:
        return "Select a valid choice; that row does not exist."
    text = str(exc)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


@contextmanager
def _onto_form(form: AdminForm) -> Iterator[None]:
    try:
        yield
    except (Conflict, Invalid) as exc:
        bound = form.get(exc.field) if exc.field else None
        form.add_error(exc.field, _message(form.admin.singular, bound, exc))
        raise Rejected(str(exc)) from exc


@contextmanager
def _onto_row(inline_form: InlineForm, prefix: str) -> Iterator[None]:
    try:
        yield
    except NotFound as exc:
        singular = inline_form.inline.singular
        inline_form.errors.append(f"A {singular} was deleted meanwhile; reload the page.")
        raise Rejected(str(exc)) from exc
    except (Conflict, Invalid) as exc:
        row = next(r for r in inline_form.rows if r.prefix == prefix)
        bound = next((b for b in row.fields if b.field.name == exc.field), None)
        message = _message(inline_form.inline.singular, bound, exc)
        if bound is not None:
            bound.error = message
        else:
            inline_form.errors.append(message)
        raise Rejected(str(exc)) from exc


def _labels(admin: AdminTable, names: Sequence[str]) -> str:
    labels = [admin.label_of(name) for name in names]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


async def _write_inlines(
    conn: Connection, form: AdminForm, parent_id: int, changes: dict[str, list[Any]]
) -> list[str]:
    """Store each inline's added, changed and deleted rows; returns what the log says."""
    notes: list[str] = []
    for inline_form in form.inlines:
        inline = inline_form.inline
        table, name = inline.table, inline.singular
        title_field = inline.fields[0]
        for row in inline_form.rows:
            with _onto_row(inline_form, row.prefix):
                if row.row_id is not None and row.delete:
                    deleted = await queries.delete_rows(conn, table, [row.row_id])
                    if not deleted:
                        raise NotFound(f"no {name} {row.row_id}")
                    old = deleted[0]
                    changes[f"{name} #{row.row_id}"] = [to_json(old[title_field]), None]
                    notes.append(f"Deleted {name} “{old[title_field]}”.")
                elif row.row_id is not None and row.values:
                    new = await queries.update_row(conn, table, row.row_id, row.values)
                    original = row.original or {}
                    for column in row.values:
                        key = f"{name} #{row.row_id}: {inline.label_of(column)}"
                        changes[key] = [to_json(original.get(column)), to_json(new[column])]
                    changed = ", ".join(inline.label_of(c) for c in row.values)
                    notes.append(f"Changed {changed} of {name} “{new[title_field]}”.")
                elif row.row_id is None and not row.untouched:
                    values = {**row.values, inline.fk_column: parent_id}
                    new = await queries.insert_row(conn, table, values)
                    changes[f"{name} #{new['id']}"] = [None, to_json(new[title_field])]
                    notes.append(f"Added {name} “{new[title_field]}”.")
    return notes


async def _prepared(form: AdminForm) -> tuple[dict[str, Any], str | None]:
    """The form's values plus a hashed password and a generated secret's stored form."""
    values = dict(form.values)
    admin = form.admin
    if admin.password is not None and form.new_password is not None:
        values[admin.password.column] = await admin.password.hasher(form.new_password)
    secret = None
    if admin.secret is not None and form.adding:
        secret, values[admin.secret.column] = admin.secret.generate()
    return values, secret


async def create(conn: Connection, user: User, app: str, form: AdminForm) -> Saved:
    """Store the add *form*'s row and its inline rows; :class:`Rejected` if refused."""
    admin = form.admin
    values, secret = await _prepared(form)
    async with conn.begin():
        with _onto_form(form):
            row = await queries.insert_row(conn, admin.table, values)
        changes = history.diff(admin, None, row)
        notes = await _write_inlines(conn, form, row["id"], changes)
        summary = " ".join([f"Added {admin.singular} “{title_of(admin, row)}”.", *notes])
        await history.record(
            conn,
            user,
            app=app,
            table=admin.name,
            row_id=row["id"],
            action="create",
            changes=changes,
            summary=summary,
        )
    return Saved(row, summary, secret)


async def change(conn: Connection, user: User, app: str, row_id: int, form: AdminForm) -> Saved:
    """Store the change *form*'s edits of row *row_id*; :class:`NotFound` if it is gone."""
    admin = form.admin
    values, _ = await _prepared(form)
    async with conn.begin():
        before = await queries.get_row(conn, admin.table, row_id, lock=True)
        with _onto_form(form):
            after = await queries.update_row(conn, admin.table, row_id, values)
        changes = history.diff(admin, before, after)
        if admin.password is not None and admin.password.column in values:
            # A new hash of the same password differs anyway; say it was set.
            changes[admin.password.column] = [history.REDACTED, history.REDACTED]
        notes = await _write_inlines(conn, form, row_id, changes)
        changed = [name for name in changes if name in admin.table.c]
        parts = [f"Changed {_labels(admin, changed)}."] if changed else []
        summary = " ".join([*parts, *notes]) or NO_CHANGES
        if changes:
            await history.record(
                conn,
                user,
                app=app,
                table=admin.name,
                row_id=row_id,
                action="change",
                changes=changes,
                summary=summary,
            )
    return Saved(after, summary)


async def delete(
    conn: Connection, user: User, app: str, admin: AdminTable, ids: Sequence[int]
) -> list[Row]:
    """Delete the rows among *ids* (their cascades go too); returns the deleted rows."""
    async with conn.begin():
        deleted = await queries.delete_rows(conn, admin.table, ids)
        for row in deleted:
            await history.record(
                conn,
                user,
                app=app,
                table=admin.name,
                row_id=row["id"],
                action="delete",
                changes=history.diff(admin, row, None),
                summary=f"Deleted {admin.singular} “{title_of(admin, row)}”.",
            )
    return deleted


async def apply_action(
    conn: Connection, user: User, app: str, admin: AdminTable, action: Action, ids: Sequence[int]
) -> list[Row]:
    """Run a declared bulk *action* on the rows among *ids*; returns the rows it changed."""
    changed: list[Row] = []
    async with conn.begin():
        for before, after in await queries.apply_values(conn, admin.table, ids, action.values):
            changes = history.diff(admin, before, after)
            if not changes:
                continue
            changed.append(after)
            await history.record(
                conn,
                user,
                app=app,
                table=admin.name,
                row_id=after["id"],
                action="change",
                changes=changes,
                summary=f"{action.done} {admin.singular} “{title_of(admin, after)}”.",
            )
    return changed


@dataclass(frozen=True, slots=True)
class Consequence:
    """Rows of one table a deletion takes along (or is blocked by), as a page names them."""

    #: ``3 choices``.
    noun: str
    #: The first few: ``(id, title)``.
    items: list[tuple[int, str]]
    more: int
    #: Where they are in the admin, when they are registered.
    app: str | None
    table: str | None
    cascade: bool


def consequences(site: AdminSite, dependents: Sequence[Dependents]) -> list[Consequence]:
    """What :func:`queries.dependents` found, named as the admin names rows."""
    described = []
    for found in dependents:
        registered = site.find(found.table)
        if registered is None:
            items = [(row["id"], f"#{row['id']}") for row in found.rows]
            noun = f"{found.count} {found.table.name} row{'' if found.count == 1 else 's'}"
            app = table = None
        else:
            section, admin = registered
            items = [(row["id"], title_of(admin, row)) for row in found.rows]
            noun, app, table = admin.count(found.count), section.name, admin.name
        more = found.count - len(items)
        described.append(Consequence(noun, items, more, app, table, found.cascade))
    return described
