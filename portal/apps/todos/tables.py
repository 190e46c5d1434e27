"""The todos table (created by ``migrations/todos_0001_initial.py``).

The API's filters have indexes of their own (``todos_0003``): ``finished``
with the id, for ``?finished=`` pages in id order, and a GIN index of the
name's trigrams for ``?name_contains=``. That one indexes an expression,
which SQLAlchemy 1.4 does not reflect, so it is declared in the migration
only (autogenerate never sees it, and never proposes to drop it).
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["metadata", "todo"]

metadata = sa.MetaData()

todo = sa.Table(
    "todo",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("finished", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("todo_finished_id_idx", "finished", "id"),
)
