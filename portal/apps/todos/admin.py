"""The todos table in the staff admin."""

from __future__ import annotations

from portal.apps.todos.tables import todo
from portal.platform.admin.options import AdminTable

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
