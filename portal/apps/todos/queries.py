"""Every SQL statement of the todos app, in SQLAlchemy Core; views and the API call these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from portal.apps.todos.tables import todo
from portal.platform.errors import Conflict, Invalid, NotFound

__all__ = [
    "NAME_MAX_LENGTH",
    "InvalidTodo",
    "Todo",
    "count_todos",
    "create_todo",
    "delete_todo",
    "get_todo",
    "list_todos",
    "set_finished",
    "toggle_finished",
]

#: The longest name the ``todo.name`` column holds, in characters.
NAME_MAX_LENGTH = 255


class InvalidTodo(Invalid):
    """A todo name that cannot be stored; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="name")


@dataclass(frozen=True, slots=True)
class Todo:
    id: int
    name: str
    finished: bool


# Hot statements are built once; the engine compiles each once (platform.statements).
_TODO_BY_ID = sa.select(todo).where(todo.c.id == sa.bindparam("todo_id"))
# LIMIT NULL is no limit in PostgreSQL: one statement serves limit=None too.
_TODOS = sa.select(todo).order_by(todo.c.id).limit(sa.bindparam("limit"))
_TODOS_AFTER = _TODOS.where(todo.c.id > sa.bindparam("after_id"))


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
    conn: Any, *, after_id: int | None = None, limit: int | None = None
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


async def count_todos(conn: Any) -> int:
    """How many todos there are."""
    return int(await conn.scalar(sa.select(sa.func.count()).select_from(todo)))


async def get_todo(conn: Any, todo_id: int) -> Todo:
    """The todo with *todo_id*; :class:`NotFound` when there is none."""
    row = await (await conn.execute(_TODO_BY_ID, todo_id=todo_id)).first()
    if row is None:
        raise NotFound(f"no todo with id {todo_id}")
    return _todo(row)


async def create_todo(conn: Any, name: str, finished: bool = False) -> Todo:
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


async def _update(conn: Any, todo_id: int, finished: Any) -> Todo:
    query = todo.update().where(todo.c.id == todo_id).values(finished=finished).returning(*todo.c)
    row = await (await conn.execute(query)).first()
    if row is None:
        raise NotFound(f"no todo with id {todo_id}")
    return _todo(row)


async def set_finished(conn: Any, todo_id: int, finished: bool) -> Todo:
    """Mark the todo finished or not; returns it as stored. :class:`NotFound` if missing."""
    return await _update(conn, todo_id, finished)


async def toggle_finished(conn: Any, todo_id: int) -> Todo:
    """Flip the todo's finished flag in one atomic ``UPDATE``; returns it as stored.

    ``SET finished = NOT finished``: reading the flag first and writing its
    opposite would let two toggles at once cancel into one.
    """
    return await _update(conn, todo_id, sa.not_(todo.c.finished))


async def delete_todo(conn: Any, todo_id: int) -> None:
    """Delete the todo with *todo_id*; :class:`NotFound` when there is none."""
    query = todo.delete().where(todo.c.id == todo_id).returning(todo.c.id)
    if await (await conn.execute(query)).first() is None:
        raise NotFound(f"no todo with id {todo_id}")
