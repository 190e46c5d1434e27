"""The admin's change log: who changed which row of which table, when, and how.

Revision ID: platform_0003
Revises: platform_0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "platform_0003"
down_revision = "platform_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("app", sa.Text, nullable=False),
        sa.Column("table_name", sa.Text, nullable=False),
        sa.Column("row_id", sa.Integer, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column(
            "changes", postgresql.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")
        ),
        sa.Column("summary", sa.Text, nullable=False),
        sa.CheckConstraint(
            "action IN ('create', 'change', 'delete')", name="admin_log_action_check"
        ),
    )
    # A row's history page, newest first.
    op.create_index("admin_log_row_idx", "admin_log", ["app", "table_name", "row_id"])
    # The list's date filter (the dashboard's recent changes go by id).
    op.create_index("admin_log_at_idx", "admin_log", ["at"])
    # Deleting a user sets their entries' user_id to NULL: find them by index.
    op.create_index("admin_log_user_id_idx", "admin_log", ["user_id"])


def downgrade() -> None:
    op.drop_table("admin_log")
