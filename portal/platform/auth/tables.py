"""The platform's tables (created by ``migrations/versions/platform_0001_users.py``)."""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["TOKEN_SCOPES", "api_tokens", "login_failures", "metadata", "users"]

metadata = sa.MetaData()

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(150), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("is_staff", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column(
        "date_joined", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("last_login", sa.DateTime(timezone=True), nullable=True),
    # Raised to end every session of the user (platform_0004).
    sa.Column("session_version", sa.Integer, nullable=False, server_default="1"),
)

#: What a token may do: ``read`` calls only the API's GET operations, ``write`` any.
TOKEN_SCOPES = ("read", "write")

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    # platform_0007; stored as text under a CHECK constraint (not a PostgreSQL
    # enum type, which a third scope would need an ALTER TYPE for).
    sa.Column(
        "scope",
        sa.Enum(
            *TOKEN_SCOPES,
            name="api_tokens_scope_check",
            native_enum=False,
            create_constraint=True,
            length=5,
        ),
        nullable=False,
        server_default="write",
    ),
    sa.Index("api_tokens_user_id_idx", "user_id"),
)

#: Failed logins per account (platform_0005) and client address (platform_0006),
#: read by the login throttle.
login_failures = sa.Table(
    "login_failures",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("account", sa.Text, nullable=False),
    sa.Column("address", sa.Text, nullable=False, server_default=""),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Index("login_failures_account_at", "account", "at"),
    sa.Index("login_failures_address_at", "address", "at"),
    sa.Index("login_failures_at", "at"),
)
