"""Failed logins per account, for throttling shared by every worker process.

Revision ID: platform_0005
Revises: platform_0004
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "platform_0005"
down_revision = "platform_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.BigInteger, primary_key=True),
        # The username as typed, lower-cased: unknown names are throttled alike.
        sa.Column("account", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("login_failures_account_at", "login_failures", ["account", "at"])


def downgrade() -> None:
    op.drop_table("login_failures")
