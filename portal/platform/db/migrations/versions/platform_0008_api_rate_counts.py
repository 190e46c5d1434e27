"""The API rate limiter's counters: one row per client and window, shared by every worker.

UNLOGGED: written on every API request, the table skips the write-ahead log;
a crash empties it, which only forgives the current window. (An unlogged
table is not replicated to standbys either, which is what counters want.)

Revision ID: platform_0008
Revises: platform_0007
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "platform_0008"
down_revision = "platform_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_rate_counts",
        # token:<sha256 of the secret> or address:<client address>
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("hits", sa.Integer, nullable=False),
        sa.Column("resets_at", sa.DateTime(timezone=True), nullable=False),
        prefixes=["UNLOGGED"],
    )
    op.create_index("api_rate_counts_resets_at", "api_rate_counts", ["resets_at"])


def downgrade() -> None:
    op.drop_table("api_rate_counts")
