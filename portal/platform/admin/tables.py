"""The admin's change log (created by ``platform_0003_admin_log``).

It shares the platform's metadata so that its foreign key to ``users``
resolves; rows outlive their author (``ON DELETE SET NULL``, the name is kept).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from portal.platform.auth.tables import metadata

__all__ = ["ACTIONS", "admin_log"]

#: What an entry records.
ACTIONS = ("create", "change", "delete")

admin_log = sa.Table(
    "admin_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    sa.Column("username", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("app", sa.Text, nullable=False),
    sa.Column("table_name", sa.Text, nullable=False),
    sa.Column("row_id", sa.Integer, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("changes", postgresql.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Index("admin_log_row_idx", "app", "table_name", "row_id"),
    sa.Index("admin_log_at_idx", "at"),
    sa.Index("admin_log_user_id_idx", "user_id"),
)
