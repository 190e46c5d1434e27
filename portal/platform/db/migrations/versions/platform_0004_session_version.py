"""A per-user session version: raising it ends every session of that user.

Sessions live in the cookie, so a copy of the cookie stays readable after
logout; the session records the version it was created under, and a session
whose version is no longer the user's is anonymous. A trigger raises the
version when the password changes or the user is deactivated, whoever makes
the change (the admin, the CLI, psql); logout raises it explicitly.

Revision ID: platform_0004
Revises: platform_0003
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "platform_0004"
down_revision = "platform_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("session_version", sa.Integer, nullable=False, server_default="1"),
    )
    op.execute(
        """
        CREATE FUNCTION users_end_sessions() RETURNS trigger AS $$
        BEGIN
            IF NEW.password_hash IS DISTINCT FROM OLD.password_hash
               OR (OLD.is_active AND NOT NEW.is_active) THEN
                NEW.session_version := OLD.session_version + 1;
            END IF;
            RETURN NEW;
        END;
        $$ LANGUAGE plpgsql;

        CREATE TRIGGER users_end_sessions
            BEFORE UPDATE ON users
            FOR EACH ROW EXECUTE FUNCTION users_end_sessions();
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER users_end_sessions ON users; DROP FUNCTION users_end_sessions();")
    op.drop_column("users", "session_version")
