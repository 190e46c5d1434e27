"""Every SQL statement of the todos app, in SQLAlchemy Core; views and the API call these."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import psycopg2.errors
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from portal.appkit import (
    Conflict,
    Connection,
    Invalid,
    NotFound,
    contains_values,
    keyset_order,
    where_contains,
)
from portal.apps.todos.tables import todo

__all__ = [
    "COUNT_CAP",
    "NAME_MAX_LENGTH",
    "InvalidTodo",
    "Summary",
    "Todo",
    "count_todos",
    "create_todo",
    "delete_todo",
    "find_todos",
    "get_todo",
    "latest_id",
    "list_todos",
    "page_start_for",
    "summarise",
    "toggle_finished",
    "update_todo",
]

#: The longest name the ``todo.name`` column holds, in characters.
NAME_MAX_LENGTH = 255


class InvalidTodo(Invalid):
    """A todo name that cannot be stored; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="name")


#: Where :func:`summarise` stops counting: the page says "more than" past it.
#: Reading 1,001 rows takes ~1 ms; 10,001 took ~5 ms on a million todos, more
#: than the page's own query, for a number nobody reads that closely.
COUNT_CAP = 1_000


@dataclass(frozen=True, slots=True)
class Todo:
    id: int
    name: str
    finished: bool


@dataclass(frozen=True, slots=True)
class Summary:
    """How many todos there are and how many are finished, counted up to a cap.

    With ``capped`` set there are more than ``total`` todos, and ``finished``
    counts only among the first ``total`` of them.
    """

    total: int
    finished: int
    capped: bool


# Hot statements are built once; the engine compiles each once (platform.statements).
_TODO_BY_ID = sa.select(todo).where(todo.c.id == sa.bindparam("todo_id"))
# LIMIT NULL is no limit in PostgreSQL: one statement serves limit=None too.
_TODOS = sa.select(todo).order_by(todo.c.id).limit(sa.bindparam("limit"))
_TODOS_AFTER = _TODOS.where(todo.c.id > sa.bindparam("after_id"))
# At most cap + 1 rows are read, whatever the table holds: the pages stay as
# fast with a million todos as with ten.
_FIRST_ROWS = sa.select(todo.c.finished).limit(sa.bindparam("cap")).subquery()
_SUMMARY = sa.select(
    sa.func.count(),
    sa.func.count().filter(_FIRST_ROWS.c.finished),
).select_from(_FIRST_ROWS)
_LATEST = sa.select(sa.func.max(todo.c.id))
# The id a page must start after to end with a given todo: walk back along the
# primary key, never further than one page.
_PAGE_START = (
    sa.select(todo.c.id)
    .where(todo.c.id < sa.bindparam("todo_id"))
    .order_by(todo.c.id.desc())
    .offset(sa.bindparam("before"))
    .limit(1)
)


#: How each ordering of :func:`find_todos` sorts (the id breaks ties).
_SORTS = {"id": todo.c.id, "name": todo.c.name}
#: The function of the trigram index ``todo_name_trigrams_idx`` (migration todos_0003):
#: the distinct three-character pieces of the lower-cased name.
_NAME_TRIGRAMS = "todos_trigrams"


@functools.cache
def _find(ordering: str, after: bool, finished: bool, contains: bool, trigrams: bool) -> Any:
    """The statement of one shape of :func:`find_todos`, built once (values are bound)."""
    column = _SORTS[ordering.removeprefix("-")]
    descending = ordering.startswith("-")
    query = sa.select(todo).limit(sa.bindparam("limit"))
    if finished:
        query = query.where(todo.c.finished == sa.bindparam("finished"))
    if contains:
        query = where_contains(query, todo.c.name, _NAME_TRIGRAMS, indexed=trigrams)
    return keyset_order(query, column, todo.c.id, descending=descending, after=after)


def _todo(row: Any) -> Todo:
    return Todo(id=row.id, name=row.name, finished=row.finished)


def _clean_name(name: str) -> str:
    """*name* without surrounding whitespace; :class:`InvalidTodo` if it cannot be stored."""
    cleaned = name.strip()
    if not name:
        raise InvalidTodo("The name must not be empty.")
    if not cleaned:
        raise InvalidTodo("The name must not be blank.")
    if len(cleaned) > NAME_MAX_LENGTH:
        raise InvalidTodo(
            f"The name must be at most {NAME_MAX_LENGTH} characters long "
            f"(this one has {len(cleaned)})."
        )
    # PostgreSQL text cannot hold NUL, and psycopg2 cannot encode lone
    # surrogates (which JSON allows): refuse both here rather than fail later.
    if "\x00" in cleaned:
        raise InvalidTodo("The name must not contain NUL characters.")
    try:
        cleaned.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidTodo("The name must be valid Unicode text.") from None
    return cleaned


async def list_todos(
    conn: Connection, *, after_id: int | None = None, limit: int | None = None
) -> list[Todo]:
    """Todos in id order; a page is ``after_id`` (the last id seen) and ``limit``.

    Keyset pagination: a page starts after an id, not at an offset, so rows
    inserted or deleted meanwhile never shift a later page.
    """
    if limit is not None and limit < 0:
        raise ValueError(f"limit must not be negative, not {limit}")
    if after_id is None:
        rows = await conn.execute(_TODOS, limit=limit)
    else:
        rows = await conn.execute(_TODOS_AFTER, limit=limit, after_id=after_id)
    return [_todo(row) for row in await rows.fetchall()]


async def find_todos(
    conn: Connection,
    *,
    limit: int,
    ordering: str = "id",
    after: tuple[Any, int] | None = None,
    finished: bool | None = None,
    name_contains: str | None = None,
) -> list[Todo]:
    """A keyset page of todos in *ordering* (``id``, ``name``; ``-`` descending), filtered.

    *after* is the (sort value, id) of the last todo seen. *finished* keeps
    only finished or unfinished todos; *name_contains* those whose name
    contains it, ignoring case (``%``, ``_`` and ``\\`` in it are literal).
    A term of three characters or more is looked up in the trigram index.
    """
    if limit < 0:
        raise ValueError(f"limit must not be negative, not {limit}")
    values: dict[str, Any] = {"limit": limit}
    if after is not None:
        values["after_value"], values["after_id"] = after
    if finished is not None:
        values["finished"] = finished
    if name_contains is not None:
        values |= contains_values(name_contains)
    statement = _find(
        ordering,
        after is not None,
        finished is not None,
        name_contains is not None,
        "term" in values,
    )
    return [_todo(row) for row in await (await conn.execute(statement, **values)).fetchall()]


async def count_todos(conn: Connection) -> int:
    """How many todos there are: a full count, for the admin and tests, not public pages."""
    return int(await conn.scalar(sa.select(sa.func.count()).select_from(todo)))


async def summarise(conn: Connection, cap: int = COUNT_CAP) -> Summary:
    """The todos counted up to *cap* (one statement reading at most ``cap + 1`` rows)."""
    row = await (await conn.execute(_SUMMARY, cap=cap + 1)).first()
    total, finished = int(row[0]), int(row[1])
    if total > cap:
        return Summary(total=cap, finished=finished, capped=True)
    return Summary(total=total, finished=finished, capped=False)


async def latest_id(conn: Connection) -> int | None:
    """The id of the newest todo (None without todos): one lookup in the primary key."""
    found = await conn.scalar(_LATEST)
    return None if found is None else int(found)


async def page_start_for(conn: Connection, todo_id: int, size: int) -> int | None:
    """The ``after_id`` of the *size*-todo page ending with *todo_id*; None for the first page.

    None also when fewer than *size* todos come before it: the first page then
    holds it.
    """
    if size < 1:
        raise ValueError(f"size must be positive, not {size}")
    found = await conn.scalar(_PAGE_START, todo_id=todo_id, before=size - 1)
    return None if found is None else int(found)


async def get_todo(conn: Connection, todo_id: int) -> Todo:
    """The todo with *todo_id*; :class:`NotFound` when there is none."""
    row = await (await conn.execute(_TODO_BY_ID, todo_id=todo_id)).first()
    if row is None:
        raise NotFound(f"no todo with id {todo_id}")
    return _todo(row)


async def create_todo(conn: Connection, name: str, finished: bool = False) -> Todo:
    """Store a new todo named *name* (stripped of surrounding whitespace).

    :class:`InvalidTodo` for a name that cannot be stored, :class:`Conflict`
    when a todo of that name exists. ``ON CONFLICT DO NOTHING`` rather than
    catching the unique violation: a failed statement would abort the
    caller's transaction, and this way the connection stays usable.
    """
    cleaned = _clean_name(name)
    query = (
        postgresql.insert(todo)
        .values(name=cleaned, finished=finished)
        .on_conflict_do_nothing(index_elements=[todo.c.name])
        .returning(*todo.c)
    )
    row = await (await conn.execute(query)).first()
    if row is None:
        raise Conflict(f"A todo named “{cleaned}” already exists.", field="name")
    return _todo(row)


async def _update(conn: Connection, todo_id: int, values: dict[str, Any]) -> Todo:
    query = todo.update().where(todo.c.id == todo_id).values(**values).returning(*todo.c)
    try:
        row = await (await conn.execute(query)).first()
    except psycopg2.errors.UniqueViolation as exc:
        # Only the name is unique. Unlike an INSERT, an UPDATE has no ON
        # CONFLICT: a caller's open transaction is aborted by this, as by any
        # failed statement.
        raise Conflict(f"A todo named “{values['name']}” already exists.", field="name") from exc
    if row is None:
        raise NotFound(f"no todo with id {todo_id}")
    return _todo(row)


async def update_todo(
    conn: Connection, todo_id: int, *, name: str | None = None, finished: bool | None = None
) -> Todo:
    """Change the given fields of a todo in one ``UPDATE``; returns it as stored.

    *name* is cleaned and checked as on create (:class:`InvalidTodo`); a name
    another todo has is a :class:`Conflict`; :class:`NotFound` if the todo is
    missing. With neither field given this is :func:`get_todo`.
    """
    values: dict[str, Any] = {}
    if name is not None:
        values["name"] = _clean_name(name)
    if finished is not None:
        values["finished"] = finished
    if not values:
        return await get_todo(conn, todo_id)
    return await _update(conn, todo_id, values)


async def toggle_finished(conn: Connection, todo_id: int) -> Todo:
    """Flip the todo's finished flag in one atomic ``UPDATE``; returns it as stored.

    ``SET finished = NOT finished``: reading the flag first and writing its
    opposite would let two toggles at once cancel into one.
    """
    return await _update(conn, todo_id, {"finished": sa.not_(todo.c.finished)})


async def delete_todo(conn: Connection, todo_id: int) -> None:
    """Delete the todo with *todo_id*; :class:`NotFound` when there is none."""
    query = todo.delete().where(todo.c.id == todo_id).returning(todo.c.id)
    if await (await conn.execute(query)).first() is None:
        raise NotFound(f"no todo with id {todo_id}")
