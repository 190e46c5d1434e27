"""Token scopes in the admin: listed, filtered, chosen on the add form, fixed afterwards."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from portal.platform.auth.tables import api_tokens
from portal.platform.auth.tokens import create_token
from portal.platform.auth.users import User
from portal.testing import Client, bearer
from tests.platform.admin.conftest import post

_SECRET = re.compile(r'<code id="secret-value">(pt_[^<]+)</code>')


async def test_the_admin_add_form_offers_the_scope_with_write_selected(staff: Client) -> None:
    body = await (await staff.get("/admin/platform/api_tokens/add")).text()

    select = re.search(r'<select id="id_scope" name="scope"[^>]*>(.*?)</select>', body, re.S)
    assert select, body
    assert "<option selected>write</option>" in select.group(1)
    assert "<option>read</option>" in select.group(1)


async def test_a_read_token_created_in_the_admin_cannot_write(
    staff: Client, conn: Any, user: User
) -> None:
    response = await post(
        staff,
        "/admin/platform/api_tokens/add",
        {"user_id": str(user.id), "name": "dash", "scope": "read"},
    )
    assert response.status == 303
    secret = _SECRET.search(await (await staff.get(response.headers["Location"])).text())
    assert secret

    assert (await staff.get("/api/todos/", headers=bearer(secret.group(1)))).status == 200
    posted = await staff.post("/api/todos/", json={"name": "x"}, headers=bearer(secret.group(1)))
    assert posted.status == 403


async def test_the_admin_lists_and_filters_tokens_by_scope(
    staff: Client, conn: Any, user: User
) -> None:
    await create_token(conn, user.id, "writer-token")
    await create_token(conn, user.id, "reader-token", scope="read")

    everything = await (await staff.get("/admin/platform/api_tokens/")).text()
    reads = await (await staff.get("/admin/platform/api_tokens/?f_scope=read")).text()
    bogus = await (await staff.get("/admin/platform/api_tokens/?f_scope=admin")).text()

    assert 'id="filter-scope-read"' in everything
    assert 'id="filter-scope-write"' in everything
    assert ">Scope<" in everything
    assert "reader-token" in reads
    assert "writer-token" not in reads
    # A value the column cannot hold is ignored, as every filter's is.
    assert "reader-token" in bogus
    assert "writer-token" in bogus


async def test_a_tokens_scope_cannot_be_changed_after_creation(
    staff: Client, conn: Any, user: User
) -> None:
    token, _ = await create_token(conn, user.id, "dash", scope="read")

    body = await (await staff.get(f"/admin/platform/api_tokens/{token.id}/")).text()
    await post(staff, f"/admin/platform/api_tokens/{token.id}/", {"name": "dash", "scope": "write"})

    assert 'name="scope"' not in body
    assert await conn.scalar(sa.select(api_tokens.c.scope)) == "read"
