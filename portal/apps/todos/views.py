"""The todos page and its forms. Thin: parse the request, call a query, render or redirect.

Reading is open to everyone; every change needs a logged-in user, and an
anonymous POST is sent to the login page (and back here afterwards).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from portal.apps.todos import queries
from portal.platform.auth.session import current_user
from portal.platform.errors import Conflict, NotFound
from portal.platform.events import Event
from portal.platform.flash import flash
from portal.platform.formdata import read_form
from portal.platform.keys import db_key
from portal.platform.live import event_socket
from portal.platform.templating import render
from portal.platform.urls import redirect, url_for

__all__ = ["add", "delete", "index", "live", "toggle"]


def _todo_id(request: web.Request) -> int:
    return int(request.match_info["todo_id"])


async def _require_user(request: web.Request) -> None:
    """Send an anonymous visitor to log in, then back to the list (raises a 303)."""
    if await current_user(request) is None:
        back = str(url_for(request, "todos:index"))
        raise web.HTTPSeeOther(location=url_for(request, "login", query={"next": back}))


async def _index_page(
    request: web.Request, *, name: str = "", error: str | None = None, status: int = 200
) -> web.Response:
    async with request.config_dict[db_key].acquire() as conn:
        todos = await queries.list_todos(conn)
    context = {
        "todos": todos,
        "finished": sum(todo.finished for todo in todos),
        "name": name,
        "error": error,
        "max_length": queries.NAME_MAX_LENGTH,
    }
    return await render(request, "todos/index.html", context, status=status)


async def index(request: web.Request) -> web.Response:
    """Every todo, oldest first; the forms for a logged-in user."""
    return await _index_page(request)


async def add(request: web.Request) -> web.StreamResponse:
    """Add the posted ``name``; on an error show the page again with it kept."""
    await _require_user(request)
    raw = (await read_form(request)).get("name")
    name = raw if isinstance(raw, str) else ""
    try:
        async with request.config_dict[db_key].acquire() as conn:
            created = await queries.create_todo(conn, name)
    except queries.InvalidTodo as exc:
        return await _index_page(request, name=name, error=str(exc), status=400)
    except Conflict as exc:
        return await _index_page(request, name=name, error=str(exc), status=409)
    await flash(request, f"Added “{created.name}”.", "success")
    raise redirect(request, "todos:index")


async def toggle(request: web.Request) -> web.StreamResponse:
    """Flip one todo between finished and not finished."""
    await _require_user(request)
    async with request.config_dict[db_key].acquire() as conn:
        try:
            todo = await queries.toggle_finished(conn, _todo_id(request))
        except NotFound:
            raise web.HTTPNotFound(text="There is no such todo.") from None
    state = "finished" if todo.finished else "not finished"
    await flash(request, f"Marked “{todo.name}” as {state}.", "success")
    raise redirect(request, "todos:index")


async def delete(request: web.Request) -> web.StreamResponse:
    """Delete one todo."""
    await _require_user(request)
    async with request.config_dict[db_key].acquire() as conn:
        try:
            todo = await queries.get_todo(conn, _todo_id(request))
            await queries.delete_todo(conn, todo.id)
        except NotFound:
            raise web.HTTPNotFound(text="There is no such todo.") from None
    await flash(request, f"Deleted “{todo.name}”.", "success")
    raise redirect(request, "todos:index")


async def live(request: web.Request) -> web.WebSocketResponse:
    """A WebSocket telling the open page that the list changed (it then re-reads it)."""

    async def snapshot() -> dict[str, Any]:
        async with request.config_dict[db_key].acquire() as conn:
            return {"count": await queries.count_todos(conn)}

    async def translate(event: Event) -> dict[str, Any]:
        return {"type": "changed", **event.data}

    return await event_socket(request, topic="todos.", snapshot=snapshot, translate=translate)
