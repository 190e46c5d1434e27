"""Who gets into the admin: active staff only; visitors are sent to log in and back."""

from __future__ import annotations

from typing import Any

from yarl import URL

from portal.platform.auth.tables import users
from portal.platform.auth.users import User
from portal.testing import PASSWORD, Client, csrf_token, log_in


async def test_anonymous_visitor_is_sent_to_log_in_with_next(client: Client) -> None:
    response = await client.get("/admin/todos/todo/?q=milk&o=-name", allow_redirects=False)

    assert response.status == 303
    location = URL(response.headers["Location"])
    assert location.path == "/login"
    assert location.query["next"] == "/admin/todos/todo/?q=milk&o=-name"


async def test_login_brings_the_visitor_back_to_the_admin_page(
    client: Client, staff_user: User
) -> None:
    redirect = await client.get("/admin/todos/todo/?q=milk", allow_redirects=False)
    next_ = URL(redirect.headers["Location"]).query["next"]
    token = await csrf_token(client, redirect.headers["Location"])

    response = await client.post(
        "/login",
        data={"username": "admin", "password": PASSWORD, "next": next_, "csrf_token": token},
        allow_redirects=False,
    )

    assert response.status == 303
    assert response.headers["Location"] == "/admin/todos/todo/?q=milk"
    assert (await client.get(response.headers["Location"])).status == 200


async def test_logged_in_non_staff_user_gets_the_403_page(client: Client, user: User) -> None:
    await log_in(client, user.username)

    response = await client.get("/admin/")

    assert response.status == 403
    assert response.content_type == "text/html"
    assert "The admin is for staff only." in await response.text()


async def test_deactivated_staff_user_gets_the_403_page(
    client: Client, staff_user: User, conn: Any
) -> None:
    await log_in(client, staff_user.username)
    await conn.execute(users.update().where(users.c.id == staff_user.id).values(is_active=False))

    response = await client.get("/admin/", allow_redirects=False)

    assert response.status == 403
    assert "Your account is inactive." in await response.text()


async def test_inactive_staff_user_cannot_log_in_to_reach_the_admin(
    client: Client, staff_user: User, conn: Any
) -> None:
    await conn.execute(users.update().where(users.c.id == staff_user.id).values(is_active=False))

    response = await log_in(client, staff_user.username)

    assert response.status == 400
    admin = await client.get("/admin/", allow_redirects=False)
    assert admin.status == 303


async def test_staff_user_sees_the_dashboard(staff: Client) -> None:
    response = await staff.get("/admin/")

    assert response.status == 200
    assert "<h1>Site administration</h1>" in await response.text()


async def test_admin_pages_are_not_cached(staff: Client) -> None:
    response = await staff.get("/admin/")

    assert response.headers["Cache-Control"] == "no-store"


async def test_the_guard_covers_every_admin_page_not_just_the_dashboard(
    client: Client, user: User
) -> None:
    await log_in(client, user.username)

    for path in ("/admin/todos/todo/", "/admin/todos/todo/add", "/admin/platform/users/1/"):
        assert (await client.get(path)).status == 403


async def test_the_stylesheet_is_served_without_logging_in(client: Client) -> None:
    response = await client.get("/admin/static/admin.css")

    assert response.status == 200
    assert response.content_type == "text/css"


async def test_every_admin_page_has_the_shared_logout_form(staff: Client) -> None:
    body = await (await staff.get("/admin/todos/todo/")).text()

    assert 'action="/logout"' in body
