"""The todos table in the staff admin."""

from __future__ import annotations

from portal.appkit import AdminTable
from portal.apps.todos.tables import todo

__all__ = ["ADMIN"]

todo_admin = AdminTable(
    todo,
    label="Todos",
    singular="todo",
    list_display=("name", "finished", "id"),
    search=("name",),
    filters=("finished",),
    ordering=("id",),
)

#: What the todos app shows in the admin.
ADMIN = (todo_admin,)
