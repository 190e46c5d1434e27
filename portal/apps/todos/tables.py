"""The todos table (created by ``migrations/todos_0001_initial.py``)."""

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
)
