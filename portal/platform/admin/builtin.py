"""The platform's own tables in the admin: users, API tokens and the change log.

Declared exactly as an app declares its tables; the admin lists them under
"Platform", after the mounted apps.
"""

from __future__ import annotations

import sqlalchemy as sa

from portal.platform.admin.options import Action, AdminTable, GeneratedSecret, PasswordHash
from portal.platform.admin.tables import admin_log
from portal.platform.auth.passwords import MIN_PASSWORD_LENGTH, hash_password
from portal.platform.auth.tables import api_tokens, users
from portal.platform.auth.tokens import generate_token

__all__ = ["PLATFORM_TABLES", "log_admin", "tokens_admin", "users_admin"]

users_admin = AdminTable(
    users,
    label="Users",
    singular="user",
    list_display=("id", "username", "is_staff", "is_active", "date_joined", "last_login"),
    search=("username",),
    filters=("is_staff", "is_active", "date_joined"),
    ordering=("username",),
    readonly=("date_joined", "last_login"),
    exclude=("session_version",),
    labels={"is_staff": "Staff", "is_active": "Active", "last_login": "Last login"},
    help_texts={
        "is_staff": "Staff may use this admin.",
        "is_active": "Inactive users cannot log in, and their API tokens stop working.",
    },
    password=PasswordHash("password_hash", hash_password, min_length=MIN_PASSWORD_LENGTH),
    actions=(
        Action("deactivate", "Deactivate selected users", "Deactivated", {"is_active": False}),
        Action("activate", "Activate selected users", "Activated", {"is_active": True}),
    ),
)

tokens_admin = AdminTable(
    api_tokens,
    label="API tokens",
    singular="API token",
    list_display=("id", "name", "user_id", "scope", "created_at", "last_used_at", "revoked_at"),
    search=("name",),
    filters=("user_id", "scope", "revoked_at", "created_at"),
    readonly=("created_at", "last_used_at", "revoked_at"),
    # A token's powers are fixed when it is shown: to change them, issue another.
    create_only=("user_id", "scope"),
    labels={"user_id": "User", "revoked_at": "Revoked at"},
    help_texts={
        "name": "What the token is for, to recognise it later.",
        "scope": "read: the API's GET operations only; write: any operation its user may call.",
    },
    initial={"name": lambda: "default"},
    secret=GeneratedSecret("token_hash", generate_token, label="Token"),
    actions=(
        Action(
            "revoke",
            "Revoke selected API tokens",
            "Revoked",
            {"revoked_at": sa.func.coalesce(api_tokens.c.revoked_at, sa.func.now())},
        ),
    ),
)

log_admin = AdminTable(
    admin_log,
    label="Change log",
    singular="log entry",
    plural="log entries",
    list_display=("id", "at", "username", "app", "table_name", "row_id", "action", "summary"),
    search=("username", "table_name", "summary"),
    filters=("at", "user_id"),
    labels={"at": "When", "table_name": "Table", "row_id": "Row", "user_id": "User"},
    title_column="summary",
    can_add=False,
    can_change=False,
    can_delete=False,
)

#: The platform's registrations, in dashboard order.
PLATFORM_TABLES = (users_admin, tokens_admin, log_admin)
