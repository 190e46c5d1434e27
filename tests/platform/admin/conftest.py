"""Admin fixtures: a staff client, and posting forms with the session's CSRF token."""

from __future__ import annotations

from typing import Any

import pytest

from portal.platform.auth.users import User
from portal.testing import Client, csrf_token, log_in


@pytest.fixture
async def staff(client: Client, staff_user: User) -> Client:
    """The site's client, logged in as the staff user ``admin``."""
    response = await log_in(client, staff_user.username)
    assert response.status == 303
    return client


async def post(client: Client, path: str, data: dict[str, Any] | list[tuple[str, Any]]) -> Any:
    """POST *data* to *path* with the CSRF token, without following the redirect."""
    token = await csrf_token(client, "/admin/")
    items = list(data.items()) if isinstance(data, dict) else list(data)
    return await client.post(path, data=[("csrf_token", token), *items], allow_redirects=False)
