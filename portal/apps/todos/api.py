"""The todos app's API: the todo tutorial's contract, under the API's prefix.

Declared here and named in the todos ``spec`` (``api=ENDPOINTS``); the api
app serves them, at ``/api/todos/``, when both apps are installed.
"""

from __future__ import annotations

from aiohttp import web

from portal.appkit import Call, Endpoint, Page, json_response
from portal.apps.todos import queries
from portal.apps.todos.schemas import TodoCreate, TodoListQuery, TodoOut, TodoPatch

__all__ = ["ENDPOINTS"]


def _out(call: Call, todo: queries.Todo) -> TodoOut:
    return TodoOut(
        id=todo.id,
        name=todo.name,
        finished=todo.finished,
        url=call.url("todos.item", todo_id=todo.id),
    )


async def list_todos(call: Call) -> web.Response:
    query: TodoListQuery = call.query
    async with call.db() as conn:
        rows = await queries.find_todos(
            conn,
            limit=query.limit + 1,
            ordering=query.ordering,
            after=query.after,
            finished=query.finished,
            name_contains=query.name_contains,
        )
    return call.page(rows, lambda todo: _out(call, todo), "todos")


async def create_todo(call: Call) -> web.Response:
    body: TodoCreate = call.body
    async with call.db() as conn:
        todo = await queries.create_todo(conn, body.name, body.finished)
    out = _out(call, todo)
    return json_response(out, status=201, headers={"Location": out.url})


async def get_todo(call: Call) -> web.Response:
    async with call.db() as conn:
        todo = await queries.get_todo(conn, call.params["todo_id"])
    return json_response(_out(call, todo))


async def update_todo(call: Call) -> web.Response:
    body: TodoPatch = call.body
    async with call.db() as conn:
        await queries.update_todo(conn, call.params["todo_id"], **body.changes())
    return web.Response(status=204)


async def delete_todo(call: Call) -> web.Response:
    async with call.db() as conn:
        await queries.delete_todo(conn, call.params["todo_id"])
    return web.Response(status=204)


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "GET",
        "/todos/",
        "todos",
        list_todos,
        "List todos",
        "todos",
        query=TodoListQuery,
        response=Page[TodoOut],
        description=(
            "A page of todos, filtered by `finished` and `name_contains`, in the chosen "
            "`ordering`; follow `next`, or pass `cursor` as `after`, for the following page."
        ),
    ),
    Endpoint(
        "POST",
        "/todos/",
        "todos",
        create_todo,
        "Create a todo",
        "todos",
        status=201,
        body=TodoCreate,
        response=TodoOut,
        access="user",
        location=True,
        errors=(409,),
        description="A duplicate name is 409; an empty one 422.",
    ),
    Endpoint(
        "GET", "/todos/{todo_id}", "todos.item", get_todo, "Get a todo", "todos", response=TodoOut
    ),
    Endpoint(
        "PATCH",
        "/todos/{todo_id}",
        "todos.item",
        update_todo,
        "Rename a todo, mark it finished or not, or both",
        "todos",
        status=204,
        body=TodoPatch,
        access="user",
        errors=(409,),
        description=(
            "Send `name`, `finished` or both; a field left out keeps its value. "
            "A name another todo has is 409; an empty object, an empty name or null is 422."
        ),
    ),
    Endpoint(
        "DELETE",
        "/todos/{todo_id}",
        "todos.item",
        delete_todo,
        "Delete a todo",
        "todos",
        status=204,
        access="user",
    ),
)
