"""Every SQL statement of the admin: SQLAlchemy Core, generic over a registered ``Table``.

Identifiers only ever come from the ``Table`` objects the apps registered
(the views look URL names up in the registry first); every value is a bound
parameter. Database refusals become domain errors naming the column at fault.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg2.errors
import sqlalchemy as sa

from portal.platform.admin.listing import Condition, Equals, IsNull, ListQuery
from portal.platform.db.engine import Connection
from portal.platform.exceptions import Conflict, Invalid, NotFound

__all__ = [
    "PAGE_SIZE",
    "Dependents",
    "Page",
    "apply_values",
    "children",
    "count_children",
    "count_rows",
    "delete_rows",
    "dependents",
    "escape_like",
    "exists",
    "get_row",
    "get_rows",
    "insert_row",
    "list_page",
    "list_statement",
    "options",
    "titles",
    "update_row",
]

#: Rows per list page.
PAGE_SIZE = 50

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list and how many rows the whole list has."""

    rows: list[Row]
    total: int
    number: int
    pages: int


def _row(row: Any) -> Row:
    return dict(row.items())


def escape_like(text: str) -> str:
    r"""*text* with LIKE's wildcards escaped (``\`` is the escape character)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _condition(table: sa.Table, condition: Condition) -> Any:
    column = table.c[condition.column]
    if isinstance(condition, Equals):
        return column == condition.value
    if isinstance(condition, IsNull):
        return column.is_(None) if condition.null else column.isnot(None)
    clauses = []
    if condition.start is not None:
        clauses.append(column >= condition.start)
    if condition.end is not None:
        clauses.append(column < condition.end)
    # Open at both ends (up to the calendar's last day): any date, but a date.
    return sa.and_(*clauses) if clauses else column.isnot(None)


def _where(table: sa.Table, search: Sequence[str], query: ListQuery) -> list[Any]:
    clauses = [_condition(table, condition) for condition in query.filters]
    # Like Django's admin: every word must appear in one of the searched columns.
    for word in query.q.split():
        pattern = f"%{escape_like(word)}%"
        clauses.append(sa.or_(*(table.c[name].ilike(pattern, escape="\\") for name in search)))
    return clauses


def _unique(column: sa.Column) -> bool:
    """Whether no two rows share a value of *column* (so ties cannot happen)."""
    if column.primary_key and len(column.table.primary_key.columns) == 1:
        return True
    if column.unique:
        return True
    return any(
        isinstance(constraint, sa.UniqueConstraint) and list(constraint.columns) == [column]
        for constraint in column.table.constraints
    )


def _order(table: sa.Table, order: Sequence[tuple[str, bool]]) -> list[Any]:
    columns = [(table.c[name], descending) for name, descending in order]
    keys = [column.desc() if descending else column.asc() for column, descending in columns]
    if not any(_unique(column) and not column.nullable for column, _ in columns):
        # A stable order whatever the sort columns hold: ties go by id, in the
        # direction of the first key (one index can serve both).
        descending = columns[0][1] if columns else False
        keys.append(table.c.id.desc() if descending else table.c.id.asc())
    return keys


def list_statement(
    table: sa.Table,
    columns: Sequence[str],
    search: Sequence[str],
    query: ListQuery,
    *,
    limit: int = PAGE_SIZE,
    offset: int = 0,
) -> Any:
    """The ``SELECT`` of one list page: filtered, ordered, limited."""
    return (
        sa.select(*(table.c[name] for name in columns))
        .where(*_where(table, search, query))
        .order_by(*_order(table, query.order))
        .limit(limit)
        .offset(offset)
    )


async def count_rows(conn: Connection, table: sa.Table, where: Iterable[Any] = ()) -> int:
    """How many rows of *table* match *where* (all of them by default)."""
    statement = sa.select(sa.func.count()).select_from(table).where(*where)
    return int(await conn.scalar(statement))


async def list_page(
    conn: Connection,
    table: sa.Table,
    columns: Sequence[str],
    search: Sequence[str],
    query: ListQuery,
) -> Page:
    """The rows of the page *query* asks for (the last one if it asks past the end)."""
    total = await count_rows(conn, table, _where(table, search, query))
    pages = max(1, -(-total // PAGE_SIZE))
    number = min(query.page, pages)
    statement = list_statement(table, columns, search, query, offset=(number - 1) * PAGE_SIZE)
    rows = [_row(row) async for row in await conn.execute(statement)]
    return Page(rows=rows, total=total, number=number, pages=pages)


async def get_row(conn: Connection, table: sa.Table, row_id: int, *, lock: bool = False) -> Row:
    """Row *row_id* of *table*; :class:`NotFound` when there is none."""
    statement = sa.select(table).where(table.c.id == row_id)
    if lock:
        statement = statement.with_for_update()
    row = await (await conn.execute(statement)).first()
    if row is None:
        raise NotFound(f"no row {row_id} in {table.name}")
    return _row(row)


async def get_rows(
    conn: Connection, table: sa.Table, ids: Iterable[int], *, lock: bool = False
) -> list[Row]:
    """The rows of *table* among *ids* that exist, by id."""
    statement = sa.select(table).where(table.c.id.in_(list(ids))).order_by(table.c.id)
    if lock:
        statement = statement.with_for_update()
    return [_row(row) async for row in await conn.execute(statement)]


async def exists(conn: Connection, table: sa.Table, row_id: int) -> bool:
    """Whether *table* has a row *row_id*."""
    return bool(await conn.scalar(sa.select(sa.exists().where(table.c.id == row_id))))


async def titles(conn: Connection, title: sa.Column, ids: Iterable[int]) -> dict[int, str]:
    """The title of each of *ids* in the table *title* belongs to."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    table = title.table
    statement = sa.select(table.c.id, title).where(table.c.id.in_(wanted))
    return {row[0]: str(row[1]) async for row in await conn.execute(statement)}


async def options(conn: Connection, title: sa.Column, limit: int) -> list[tuple[int, str]] | None:
    """Every row of *title*'s table as ``(id, title)``, by title; None if over *limit*."""
    table = title.table
    statement = sa.select(table.c.id, title).order_by(title, table.c.id).limit(limit + 1)
    found = [(row[0], str(row[1])) async for row in await conn.execute(statement)]
    return None if len(found) > limit else found


async def children(
    conn: Connection,
    table: sa.Table,
    fk_column: str,
    parent_id: int,
    *,
    limit: int,
    ids: Sequence[int] | None = None,
) -> list[Row]:
    """The first *limit* rows of *table* whose *fk_column* is *parent_id*, by id.

    With *ids*, only those among them: the rows a posted form carries.
    """
    statement = (
        sa.select(table).where(table.c[fk_column] == parent_id).order_by(table.c.id).limit(limit)
    )
    if ids is not None:
        statement = statement.where(table.c.id.in_(sorted(set(ids))))
    return [_row(row) async for row in await conn.execute(statement)]


async def count_children(conn: Connection, table: sa.Table, fk_column: str, parent_id: int) -> int:
    """How many rows of *table* have *fk_column* set to *parent_id*."""
    statement = sa.select(sa.func.count()).select_from(table).where(table.c[fk_column] == parent_id)
    return int(await conn.scalar(statement))


_KEY_DETAIL = re.compile(r"Key \(([^)]*)\)=")


def _detail_column(exc: psycopg2.Error) -> str | None:
    """The single column a constraint violation's detail names, if one does."""
    match = _KEY_DETAIL.search(exc.diag.message_detail or "")
    if match is None or "," in match.group(1):
        return None
    return match.group(1).strip('"')


@contextmanager
def _integrity(table: sa.Table) -> Iterator[None]:
    """Turn the database's refusals into :class:`Conflict` and :class:`Invalid`."""
    try:
        yield
    except psycopg2.errors.UniqueViolation as exc:
        column = _detail_column(exc)
        raise Conflict(f"another {table.name} row has this {column}", field=column) from exc
    except psycopg2.errors.ForeignKeyViolation as exc:
        column = _detail_column(exc)
        if exc.diag.table_name == table.name:
            raise Invalid(f"{column} refers to a row that does not exist", field=column) from exc
        raise Conflict(f"{table.name} row is still referenced by {exc.diag.table_name}") from exc
    except (psycopg2.errors.NotNullViolation, psycopg2.errors.CheckViolation) as exc:
        column = exc.diag.column_name
        raise Invalid(exc.diag.message_primary or "invalid value", field=column) from exc
    except psycopg2.errors.DataError as exc:
        raise Invalid(exc.diag.message_primary or "invalid value") from exc


async def insert_row(conn: Connection, table: sa.Table, values: Mapping[str, Any]) -> Row:
    """Store a new row; returns it as stored (defaults filled in)."""
    with _integrity(table):
        result = await conn.execute(table.insert().values(**values).returning(*table.c))
        return _row(await result.first())


async def update_row(
    conn: Connection, table: sa.Table, row_id: int, values: Mapping[str, Any]
) -> Row:
    """Change row *row_id*; returns it as stored. :class:`NotFound` when there is none."""
    if not values:
        return await get_row(conn, table, row_id)
    statement = table.update().where(table.c.id == row_id).values(**values).returning(*table.c)
    with _integrity(table):
        row = await (await conn.execute(statement)).first()
    if row is None:
        raise NotFound(f"no row {row_id} in {table.name}")
    return _row(row)


async def apply_values(
    conn: Connection, table: sa.Table, ids: Iterable[int], values: Mapping[str, Any]
) -> list[tuple[Row, Row]]:
    """Set *values* on the rows among *ids*; returns each row before and after."""
    before = {row["id"]: row for row in await get_rows(conn, table, ids, lock=True)}
    if not before:
        return []
    statement = (
        table.update().where(table.c.id.in_(list(before))).values(**values).returning(*table.c)
    )
    with _integrity(table):
        after = [_row(row) async for row in await conn.execute(statement)]
    return sorted(((before[row["id"]], row) for row in after), key=lambda pair: pair[0]["id"])


async def delete_rows(conn: Connection, table: sa.Table, ids: Iterable[int]) -> list[Row]:
    """Delete the rows among *ids* (the database cascades); returns them as they were."""
    statement = table.delete().where(table.c.id.in_(list(ids))).returning(*table.c)
    with _integrity(table):
        deleted = [_row(row) async for row in await conn.execute(statement)]
    return sorted(deleted, key=lambda row: row["id"])


#: How many dependent rows a confirmation page names, per table.
DEPENDENTS_SHOWN = 20
_DEPTH = 4


@dataclass(frozen=True, slots=True)
class Dependents:
    """Rows of another table that point at the rows being deleted."""

    table: sa.Table
    #: ``CASCADE``: deleted too; otherwise they block the deletion.
    cascade: bool
    count: int
    #: The first few of them.
    rows: list[Row] = field(default_factory=list)


async def dependents(
    conn: Connection, tables: Iterable[sa.Table], table: sa.Table, ids: Sequence[int]
) -> list[Dependents]:
    """What deleting *ids* of *table* would take with it (or be blocked by), among *tables*.

    Follows ``ON DELETE CASCADE`` a few levels down; ``SET NULL`` references
    lose their link and are not listed.
    """
    known = list(tables)
    found: list[Dependents] = []
    frontier = [(table, list(ids))]
    for _ in range(_DEPTH):
        next_frontier: list[tuple[sa.Table, list[int]]] = []
        for target, target_ids in frontier:
            if not target_ids:
                continue
            for other in known:
                for key in other.foreign_keys:
                    if key.column.table is not target or key.ondelete == "SET NULL":
                        continue
                    where = key.parent.in_(target_ids)
                    count = await count_rows(conn, other, [where])
                    if not count:
                        continue
                    statement = (
                        sa.select(other).where(where).order_by(other.c.id).limit(DEPENDENTS_SHOWN)
                    )
                    rows = [_row(row) async for row in await conn.execute(statement)]
                    cascade = key.ondelete == "CASCADE"
                    found.append(Dependents(other, cascade, count, rows))
                    if cascade and "id" in other.c:
                        child_ids = sa.select(other.c.id).where(where)
                        next_frontier.append(
                            (other, [row[0] async for row in await conn.execute(child_ids)])
                        )
        frontier = next_frontier
    return found
