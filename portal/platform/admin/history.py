"""The change log: one entry per create, change or delete made through the admin.

Entries are written on the same connection, inside the same transaction, as
the change they describe, so a change is never stored without its entry (nor
an entry without its change). ``changes`` maps each field to ``[old, new]``;
password hashes and stored secrets are never copied into it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa

from portal.platform.admin.fields import to_json
from portal.platform.admin.options import AdminTable
from portal.platform.admin.tables import admin_log
from portal.platform.auth.users import User
from portal.platform.db.engine import Connection

__all__ = [
    "HISTORY_PAGE",
    "REDACTED",
    "Entry",
    "LogAction",
    "diff",
    "for_row",
    "recent",
    "record",
]

LogAction = Literal["create", "change", "delete"]

#: What a secret's old and new values read as in the log.
REDACTED = "(hidden)"

Row = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    user_id: int | None
    username: str
    at: dt.datetime
    app: str
    table_name: str
    row_id: int
    action: str
    changes: dict[str, list[Any]]
    summary: str


def _entry(row: Any) -> Entry:
    return Entry(
        id=row.id,
        user_id=row.user_id,
        username=row.username,
        at=row.at,
        app=row.app,
        table_name=row.table_name,
        row_id=row.row_id,
        action=row.action,
        changes=dict(row.changes or {}),
        summary=row.summary,
    )


def _safe(admin: AdminTable, name: str, value: Any) -> Any:
    if name in admin.hidden:
        return None if value is None else REDACTED
    return to_json(value)


def diff(admin: AdminTable, before: Row | None, after: Row | None) -> dict[str, list[Any]]:
    """``{column: [old, new]}`` for every column that differs (all set ones on create/delete)."""
    # Excluded columns are not the admin's to change (a trigger's bookkeeping,
    # say): their changes are not the editor's either.
    names: Iterable[str] = (
        column.name
        for column in admin.table.c
        if column.name != "id" and column.name not in admin.exclude
    )
    changes: dict[str, list[Any]] = {}
    for name in names:
        old = None if before is None else before.get(name)
        new = None if after is None else after.get(name)
        if old == new and not (before is None or after is None):
            continue
        if old is None and new is None:
            continue
        changes[name] = [_safe(admin, name, old), _safe(admin, name, new)]
    return changes


def _natural(key: str) -> list[Any]:
    """``choice #9`` before ``choice #10``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", key)]


def ordered_changes(
    admin: AdminTable, changes: Mapping[str, list[Any]]
) -> list[tuple[str, Any, Any]]:
    """``(field, old, new)`` in the table's column order, then inline rows by number.

    JSONB keeps no key order, so the order is restored here.
    """
    columns = [column.name for column in admin.table.c]
    own = [name for name in columns if name in changes]
    others = sorted((key for key in changes if key not in admin.table.c), key=_natural)
    return [(key, *changes[key]) for key in [*own, *others]]


async def record(
    conn: Connection,
    user: User,
    *,
    app: str,
    table: str,
    row_id: int,
    action: LogAction,
    changes: Mapping[str, list[Any]],
    summary: str,
) -> None:
    """Add an entry; call it inside the transaction making the change."""
    await conn.execute(
        admin_log.insert().values(
            user_id=user.id,
            username=user.username,
            app=app,
            table_name=table,
            row_id=row_id,
            action=action,
            changes=dict(changes),
            summary=summary,
        )
    )


async def recent(conn: Connection, limit: int = 10) -> list[Entry]:
    """The newest entries, newest first."""
    query = sa.select(admin_log).order_by(admin_log.c.id.desc()).limit(limit)
    return [_entry(row) async for row in await conn.execute(query)]


#: Entries on one page of a row's history.
HISTORY_PAGE = 50


async def for_row(
    conn: Connection,
    app: str,
    table: str,
    row_id: int,
    *,
    before: int | None = None,
    limit: int = HISTORY_PAGE,
) -> tuple[list[Entry], bool]:
    """One page of the entries about one row, newest first, and whether older ones exist.

    A page starts *before* an entry id (keyset: entries logged meanwhile never
    shift a later page), so a row edited a million times still gives a
    bounded page.
    """
    query = (
        sa.select(admin_log)
        .where(
            admin_log.c.app == app,
            admin_log.c.table_name == table,
            admin_log.c.row_id == row_id,
        )
        .order_by(admin_log.c.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(admin_log.c.id < before)
    entries = [_entry(row) async for row in await conn.execute(query)]
    return entries[:limit], len(entries) > limit
