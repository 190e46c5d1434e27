"""The todos table, as in the aiohttp todo tutorial: a unique name and a finished flag.

Revision ID: todos_0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "todos_0001"
down_revision = None
branch_labels = ("todos",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "todo",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("finished", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.UniqueConstraint("name", name="todo_name_key"),
    )


def downgrade() -> None:
    op.drop_table("todo")
