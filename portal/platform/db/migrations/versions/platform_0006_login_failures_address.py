"""Failed logins by client address too: throttling per address and per (account, address).

Counting per account alone let anyone lock any account (staff included) with
ten wrong passwords, and let one address try any number of accounts. Rows
recorded before this revision have no address (``''``); they still count
against their account until they expire (15 minutes).

Revision ID: platform_0006
Revises: platform_0005
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "platform_0006"
down_revision = "platform_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The client address as the throttle keys it (an IPv6 client by its /64).
    op.add_column(
        "login_failures",
        sa.Column("address", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("login_failures_address_at", "login_failures", ["address", "at"])
    # Expired rows of any account or address are swept in small batches, by age.
    op.create_index("login_failures_at", "login_failures", ["at"])


def downgrade() -> None:
    op.drop_index("login_failures_at", table_name="login_failures")
    op.drop_index("login_failures_address_at", table_name="login_failures")
    op.drop_column("login_failures", "address")
