"""A scope per API token: ``read`` tokens call only the API's GET operations.

Every token issued before this revision could do anything its user may, so
each becomes a ``write`` token (the column's default) and keeps working.

Revision ID: platform_0007
Revises: platform_0006
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "platform_0007"
down_revision = "platform_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "api_tokens",
        sa.Column("scope", sa.String(5), nullable=False, server_default="write"),
    )
    op.create_check_constraint("api_tokens_scope_check", "api_tokens", "scope IN ('read', 'write')")


def downgrade() -> None:
    op.drop_constraint("api_tokens_scope_check", "api_tokens", type_="check")
    op.drop_column("api_tokens", "scope")
