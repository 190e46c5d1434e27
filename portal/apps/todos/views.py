"""The todos page and its forms. Thin: parse the request, call a query, render or redirect.

Reading is open to everyone; every change needs a logged-in user, and an
anonymous POST is sent to the login page (and back here afterwards).

The list is shown :data:`PAGE_SIZE` todos at a time, by keyset: ``?after=<id>``
starts a page after that id, so a page costs the same with ten todos or a
million, and rows added or removed meanwhile never shift the next page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from portal.appkit import (
    Conflict,
    Event,
    NotFound,
    current_user,
    db_key,
    event_socket,
    flash,
    read_form,
    render,
    url_for,
)
from portal.apps.todos import queries

__all__ = ["PAGE_SIZE", "add", "delete", "index", "live", "toggle"]

#: Todos on one page of the list.
PAGE_SIZE = 50
#: The largest id the ``todo.id`` column holds (PostgreSQL ``integer``).
_MAX_ID = 2**31 - 1


def _todo_id(request: web.Request) -> int:
    return int(request.match_info["todo_id"])


async def _require_user(request: web.Request) -> None:
    """Send an anonymous visitor to log in, then back to the list (raises a 303)."""
    if await current_user(request) is None:
        back = str(url_for(request, "todos:index"))
        raise web.HTTPSeeOther(location=url_for(request, "login", query={"next": back}))


def _as_id(text: object) -> int | None:
    """*text* as a todo id (0 included), or None when it cannot be one."""
    # ASCII digits only, and short: int() of thousands of digits is slow, then refused.
    if not isinstance(text, str) or not (text.isascii() and text.isdecimal()) or len(text) > 10:
        return None
    value = int(text)
    return value if value <= _MAX_ID else None


def _page_after(request: web.Request) -> int | None:
    """The id the page asked for starts after; None for the first page; 400 if not an id."""
    text = request.query.get("after", "")
    if text == "":
        return None
    after = _as_id(text)
    if after is None:
        raise web.HTTPBadRequest(
            text="There is no such page of todos: “after” must be the id of a todo."
        )
    return after or None


def _list_url(request: web.Request, after: int | None) -> str:
    """The list's page starting after *after* (the first page for None)."""
    query = None if after is None else {"after": after}
    return str(url_for(request, "todos:index", query=query))


def _back_to_list(request: web.Request, form: Mapping[str, Any]) -> web.HTTPSeeOther:
    """A 303 to the page the form was posted from (its ``after`` field), else the first."""
    # Only a place to go back to: a value that is not an id just means the first page.
    return web.HTTPSeeOther(location=_list_url(request, _as_id(form.get("after")) or None))


async def _index_page(
    request: web.Request,
    *,
    after: int | None = None,
    name: str = "",
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    async with request.config_dict[db_key].acquire() as conn:
        # One more than a page: whether a next page exists, without counting.
        rows = await queries.list_todos(conn, after_id=after, limit=PAGE_SIZE + 1)
        summary = await queries.summarise(conn)
    todos = rows[:PAGE_SIZE]
    context = {
        "todos": todos,
        "summary": summary,
        "after": after,
        "next_after": todos[-1].id if len(rows) > PAGE_SIZE else None,
        "name": name,
        "error": error,
        "max_length": queries.NAME_MAX_LENGTH,
    }
    return await render(request, "todos/index.html", context, status=status)


async def index(request: web.Request) -> web.Response:
    """One page of todos, oldest first (``?after=<id>`` for the next); forms for a user."""
    return await _index_page(request, after=_page_after(request))


async def add(request: web.Request) -> web.StreamResponse:
    """Add the posted ``name``; on an error show the page again with it kept."""
    await _require_user(request)
    raw = (await read_form(request)).get("name")
    name = raw if isinstance(raw, str) else ""
    try:
        async with request.config_dict[db_key].acquire() as conn:
            created = await queries.create_todo(conn, name)
            # The page that ends with the new todo, so that it is in sight.
            after = await queries.page_start_for(conn, created.id, PAGE_SIZE)
    except queries.InvalidTodo as exc:
        return await _index_page(request, name=name, error=str(exc), status=400)
    except Conflict as exc:
        return await _index_page(request, name=name, error=str(exc), status=409)
    await flash(request, f"Added “{created.name}”.", "success")
    raise web.HTTPSeeOther(location=_list_url(request, after))


async def toggle(request: web.Request) -> web.StreamResponse:
    """Flip one todo between finished and not finished; back to the page it was on."""
    await _require_user(request)
    form = await read_form(request)
    async with request.config_dict[db_key].acquire() as conn:
        try:
            todo = await queries.toggle_finished(conn, _todo_id(request))
        except NotFound:
            raise web.HTTPNotFound(text="There is no such todo.") from None
    state = "finished" if todo.finished else "not finished"
    await flash(request, f"Marked “{todo.name}” as {state}.", "success")
    raise _back_to_list(request, form)


async def delete(request: web.Request) -> web.StreamResponse:
    """Delete one todo; back to the page it was on."""
    await _require_user(request)
    form = await read_form(request)
    async with request.config_dict[db_key].acquire() as conn:
        try:
            todo = await queries.get_todo(conn, _todo_id(request))
            await queries.delete_todo(conn, todo.id)
        except NotFound:
            raise web.HTTPNotFound(text="There is no such todo.") from None
    await flash(request, f"Deleted “{todo.name}”.", "success")
    raise _back_to_list(request, form)


async def live(request: web.Request) -> web.WebSocketResponse:
    """A WebSocket telling the open page that the list changed (it then re-reads it)."""

    async def snapshot() -> dict[str, Any]:
        # The newest id, not a count: one index lookup, however many todos there are.
        async with request.config_dict[db_key].acquire() as conn:
            return {"latest": await queries.latest_id(conn)}

    async def translate(event: Event) -> dict[str, Any]:
        return {"type": "changed", **event.data}

    return await event_socket(request, topic="todos.", snapshot=snapshot, translate=translate)
