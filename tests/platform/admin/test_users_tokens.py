"""The platform's users and API tokens, managed through the admin like any table."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from portal.platform.admin.tables import admin_log
from portal.platform.auth.passwords import verify_password
from portal.platform.auth.tables import api_tokens, users
from portal.platform.auth.tokens import authenticate_token, create_token
from portal.platform.auth.users import User, create_user, get_user_by_username
from portal.testing import PASSWORD, Client, MakeClient, log_in
from tests.platform.admin.conftest import post
from tests.platform.admin.test_forms import field_error

NEW_PASSWORD = "a new password 123"


async def stored_hash(conn: Any, username: str) -> str:
    return str(
        await conn.scalar(sa.select(users.c.password_hash).where(users.c.username == username))
    )


def new_user(**overrides: str) -> dict[str, str]:
    form = {
        "username": "carol",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        "is_active": "on",
    }
    form.update(overrides)
    return form


async def test_a_user_created_in_the_admin_can_log_in(
    staff: Client, conn: Any, make_client: MakeClient
) -> None:
    response = await post(staff, "/admin/platform/users/add", new_user(is_staff="on"))

    assert response.status == 303
    carol = await get_user_by_username(conn, "carol")
    assert (carol.is_staff, carol.is_active) == (True, True)
    password_hash = await stored_hash(conn, "carol")
    assert password_hash.startswith("$argon2id$")
    assert await verify_password(password_hash, NEW_PASSWORD)
    other = await make_client()
    assert (await log_in(other, "carol", NEW_PASSWORD)).status == 303


async def test_the_password_must_be_given_twice_alike(staff: Client, conn: Any) -> None:
    response = await post(staff, "/admin/platform/users/add", new_user(password2="different!"))

    body = await response.text()
    assert response.status == 400
    assert field_error(body, "id_password2") == "The two passwords differ."
    assert 'value="carol"' in body
    assert NEW_PASSWORD not in body
    assert await conn.scalar(sa.select(sa.func.count()).select_from(users)) == 1


async def test_a_new_user_needs_a_password(staff: Client) -> None:
    response = await post(staff, "/admin/platform/users/add", new_user(password1="", password2=""))

    assert field_error(await response.text(), "id_password1") == "This field is required."


async def test_a_short_password_is_refused(staff: Client) -> None:
    response = await post(
        staff, "/admin/platform/users/add", new_user(password1="short", password2="short")
    )

    assert field_error(await response.text(), "id_password1") == (
        "The password must be at least 8 characters long."
    )


async def test_a_duplicate_username_is_a_field_error(staff: Client, user: User) -> None:
    response = await post(staff, "/admin/platform/users/add", new_user(username="alice"))

    assert field_error(await response.text(), "id_username") == (
        "A user with this username already exists."
    )


async def test_the_password_hash_is_never_shown(staff: Client, conn: Any, user: User) -> None:
    password_hash = await stored_hash(conn, "alice")

    for path in (f"/admin/platform/users/{user.id}/", "/admin/platform/users/"):
        body = await (await staff.get(path)).text()
        assert password_hash not in body
        assert "password_hash" not in body


async def test_deactivating_a_user_stops_their_login(
    staff: Client, conn: Any, user: User, make_client: MakeClient
) -> None:
    response = await post(staff, f"/admin/platform/users/{user.id}/", {"username": "alice"})

    assert response.status == 303
    assert (await get_user_by_username(conn, "alice")).is_active is False
    other = await make_client()
    assert (await log_in(other, "alice")).status == 400


async def test_the_deactivate_action_deactivates_the_selected_users(
    staff: Client, conn: Any, user: User
) -> None:
    bob = await create_user(conn, "bob", PASSWORD)

    await post(
        staff,
        "/admin/platform/users/bulk",
        [("action", "deactivate"), ("ids", user.id), ("ids", bob.id)],
    )

    assert not (await get_user_by_username(conn, "alice")).is_active
    assert not (await get_user_by_username(conn, "bob")).is_active


async def test_making_a_user_staff(staff: Client, conn: Any, user: User) -> None:
    await post(
        staff,
        f"/admin/platform/users/{user.id}/",
        {"username": "alice", "is_active": "on", "is_staff": "on"},
    )

    assert (await get_user_by_username(conn, "alice")).is_staff is True


async def test_setting_a_new_password(
    staff: Client, conn: Any, user: User, make_client: MakeClient
) -> None:
    form = {"username": "alice", "is_active": "on", "password1": NEW_PASSWORD}
    await post(staff, f"/admin/platform/users/{user.id}/", {**form, "password2": NEW_PASSWORD})

    other = await make_client()
    assert (await log_in(other, "alice", PASSWORD)).status == 400
    assert (await log_in(other, "alice", NEW_PASSWORD)).status == 303


async def test_blank_password_inputs_keep_the_password(
    staff: Client, conn: Any, user: User
) -> None:
    before = await stored_hash(conn, "alice")

    await post(
        staff, f"/admin/platform/users/{user.id}/", {"username": "alice2", "is_active": "on"}
    )

    assert await stored_hash(conn, "alice2") == before


async def test_a_password_change_is_logged_without_the_hash(
    staff: Client, conn: Any, user: User
) -> None:
    form = {"username": "alice", "is_active": "on", "password1": NEW_PASSWORD}
    await post(staff, f"/admin/platform/users/{user.id}/", {**form, "password2": NEW_PASSWORD})

    changes = await conn.scalar(sa.select(admin_log.c.changes))
    assert changes == {"password_hash": ["(hidden)", "(hidden)"]}
    assert "$argon2" not in str(await conn.scalar(sa.select(admin_log.c.summary)))


# API tokens

_SECRET = re.compile(r'<code id="secret-value">(pt_[^<]+)</code>')


async def test_a_token_created_in_the_admin_is_shown_once_and_authenticates(
    staff: Client, conn: Any, user: User
) -> None:
    response = await post(
        staff, "/admin/platform/api_tokens/add", {"user_id": str(user.id), "name": "ci"}
    )
    assert response.status == 303
    location = response.headers["Location"]

    first = await (await staff.get(location)).text()
    again = await (await staff.get(location)).text()

    secret = _SECRET.search(first)
    assert secret
    assert secret.group(1) not in again
    assert 'id="new-secret"' not in again
    authenticated = await authenticate_token(conn, secret.group(1))
    assert authenticated is not None
    assert authenticated.username == "alice"


async def test_the_token_hash_is_never_shown_nor_logged(
    staff: Client, conn: Any, user: User
) -> None:
    response = await post(
        staff, "/admin/platform/api_tokens/add", {"user_id": str(user.id), "name": "ci"}
    )
    body = await (await staff.get(response.headers["Location"])).text()
    token_hash = await conn.scalar(sa.select(api_tokens.c.token_hash))

    assert token_hash not in body
    assert token_hash not in await (await staff.get("/admin/platform/api_tokens/")).text()
    assert token_hash not in str(await conn.scalar(sa.select(admin_log.c.changes)))


async def test_a_tokens_user_cannot_be_changed_after_creation(
    staff: Client, conn: Any, user: User, staff_user: User
) -> None:
    token, _ = await create_token(conn, user.id, "laptop")

    body = await (await staff.get(f"/admin/platform/api_tokens/{token.id}/")).text()
    await post(
        staff,
        f"/admin/platform/api_tokens/{token.id}/",
        {"user_id": str(staff_user.id), "name": "laptop"},
    )

    assert 'name="user_id"' not in body
    assert (
        '<div class="readonly" id="id_user_id" aria-labelledby="id_user_id-label">alice</div>'
        in body
    )
    assert await conn.scalar(sa.select(api_tokens.c.user_id)) == user.id


async def test_revoking_a_token_stops_it_authenticating(
    staff: Client, conn: Any, user: User
) -> None:
    token, secret = await create_token(conn, user.id, "laptop")

    confirm = await staff.get(f"/admin/platform/api_tokens/bulk?action=revoke&ids={token.id}")
    response = await post(
        staff, "/admin/platform/api_tokens/bulk", [("action", "revoke"), ("ids", token.id)]
    )

    assert "<h1>Revoke selected API tokens?</h1>" in await confirm.text()
    assert response.status == 303
    assert await conn.scalar(sa.select(api_tokens.c.revoked_at)) is not None
    assert await authenticate_token(conn, secret) is None


async def test_revoke_selected_revokes_each_and_keeps_the_first_revocation_time(
    staff: Client, conn: Any, user: User
) -> None:
    first, _ = await create_token(conn, user.id, "one")
    second, _ = await create_token(conn, user.id, "two")
    await post(staff, "/admin/platform/api_tokens/bulk", [("action", "revoke"), ("ids", first.id)])
    revoked_at = await conn.scalar(
        sa.select(api_tokens.c.revoked_at).where(api_tokens.c.id == first.id)
    )

    await post(
        staff,
        "/admin/platform/api_tokens/bulk",
        [("action", "revoke"), ("ids", first.id), ("ids", second.id)],
    )

    times = {
        row.id: row.revoked_at
        async for row in await conn.execute(sa.select(api_tokens.c.id, api_tokens.c.revoked_at))
    }
    assert times[first.id] == revoked_at
    assert times[second.id] is not None
    assert "Revoked 1 API token." in await (await staff.get("/admin/")).text()


async def test_a_token_page_offers_revoke(staff: Client, conn: Any, user: User) -> None:
    token, _ = await create_token(conn, user.id, "laptop")

    body = await (await staff.get(f"/admin/platform/api_tokens/{token.id}/")).text()

    assert f'href="/admin/platform/api_tokens/bulk?action=revoke&amp;ids={token.id}"' in body
