"""The toolbar's panels show what really happened, and never a credential."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from portal.apps.polls.queries import create_question
from portal.platform.auth.tokens import create_token
from portal.platform.auth.users import User
from portal.settings import Settings
from portal.testing import Client, MakeClient, csrf_token, log_in
from tests.platform.test_toolbar import toolbar_link


@pytest.fixture
async def debug_client(make_client: MakeClient, settings: Settings) -> Client:
    """The whole site with debug on."""
    return await make_client(dataclasses.replace(settings, debug=True))


def panel(toolbar: str, name: str) -> str:
    """One panel's content on the toolbar's page, as text without markup."""
    marker = f'id="pDebug{name}Panel-content"'
    start = toolbar.index(marker)
    end = toolbar.find('Panel-content"', start + len(marker))
    html = toolbar[start : end if end > 0 else None]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


async def latest_toolbar(client: Client) -> str:
    """The toolbar's page for the latest request it recorded."""
    return await (await client.get("/_debugtoolbar")).text()


async def shown_toolbar(client: Client, path: str) -> str:
    """GET *path*, then open the toolbar its handle links to."""
    page = await (await client.get(path)).text()
    return await (await client.get(toolbar_link(page))).text()


async def test_templates_panel_names_each_template_with_its_context(
    debug_client: Client, conn: Any
) -> None:
    question = await create_question(conn, "Which colour?", ["red", "blue"])

    toolbar = await shown_toolbar(debug_client, f"/polls/{question.id}/")

    templates = panel(toolbar, "Templates")
    assert "1. polls/detail.html" in templates
    assert "Which colour?" in templates


async def test_sockets_panel_lists_an_open_socket_and_what_it_sent(
    debug_client: Client, conn: Any
) -> None:
    question = await create_question(conn, "Live?", ["yes", "no"])
    async with debug_client.ws_connect(f"/polls/{question.id}/live") as ws:
        snapshot = await ws.receive_json()
        assert snapshot["type"] == "snapshot"

        toolbar = await shown_toolbar(debug_client, "/polls/")

    sockets = panel(toolbar, "Sockets")
    assert "1 open" in sockets
    assert f"/polls/{question.id}/live" in sockets
    assert '"type": "snapshot"' in sockets.replace("&#34;", '"')


async def test_sockets_panel_forgets_a_closed_socket(debug_client: Client, conn: Any) -> None:
    question = await create_question(conn, "Live?", ["yes", "no"])
    async with debug_client.ws_connect(f"/polls/{question.id}/live") as ws:
        await ws.receive_json()
    await debug_client.get("/healthz")  # a turn of the loop for the server to notice

    sockets = panel(await shown_toolbar(debug_client, "/polls/"), "Sockets")

    assert "0 open" in sockets


async def test_middlewares_panel_names_each_middleware_in_order(debug_client: Client) -> None:
    middlewares = panel(await shown_toolbar(debug_client, "/admin/login"), "Middlewares")

    rows = re.findall(r" (\d+) ([a-z_.]+\w)(?: \(made by ([\w.]+)\(\)\))?", middlewares)
    names = [(int(n), name, factory) for n, name, factory in rows]
    assert names[0] == (1, "portal.platform.toolbar.middleware.toolbar_middleware", "")
    assert (
        names.index(
            (4, "portal.platform.edge.errorpages.error_middleware", ""),
        )
        == 3
    )
    assert any(
        name == "portal.platform.edge.timeouts.request_time_limit"
        and factory == "portal.platform.edge.timeouts.timeout_middleware"
        for _, name, factory in names
    )
    # The admin's own guard runs after every root middleware.
    assert names[-1] == (len(names), "portal.platform.admin.guard.staff_only", "")
    # Qualified names, where the stock panel showed "middleware", "impl", "factory".
    assert all("." in name for _, name, _ in names)


async def test_headers_panel_redacts_the_bearer_token(
    debug_client: Client, conn: Any, user: User
) -> None:
    _, secret = await create_token(conn, user.id)
    await debug_client.get("/api/", headers={"Authorization": f"Bearer {secret}"})

    toolbar = await latest_toolbar(debug_client)

    assert "Authorization [redacted]" in panel(toolbar, "Header")
    assert secret not in toolbar


async def test_no_panel_shows_the_session_cookie(debug_client: Client, user: User) -> None:
    await log_in(debug_client, "alice")
    cookie = next(iter(debug_client.session.cookie_jar)).value

    toolbar = await shown_toolbar(debug_client, "/polls/")

    assert "Cookie [redacted]" in panel(toolbar, "Header")
    assert cookie not in toolbar


async def test_headers_panel_redacts_set_cookie() -> None:
    from aiohttp import web
    from aiohttp.test_utils import make_mocked_request

    from portal.platform.toolbar.panels import HeadersPanel

    headers = HeadersPanel(make_mocked_request("GET", "/", headers={"Cookie": "s=secret"}))
    response = web.Response(headers={"Set-Cookie": "s=fresh-secret; HttpOnly"})

    await headers.process_response(response)

    assert headers.data["request_headers"] == [("Cookie", "[redacted]")]
    assert ("Set-Cookie", "[redacted]") in headers.data["response_headers"]


async def test_login_panels_redact_the_csrf_token_and_password(
    debug_client: Client, user: User
) -> None:
    token = await csrf_token(debug_client)
    response = await debug_client.post(
        "/login",
        data={"username": "alice", "password": "correct horse battery", "csrf_token": token},
        allow_redirects=False,
    )
    assert response.status == 303

    toolbar = await latest_toolbar(debug_client)

    variables = panel(toolbar, "RequestVars")
    assert "csrf_token [redacted]" in variables
    assert "password [redacted]" in variables
    assert token not in toolbar
    assert "correct horse battery" not in toolbar
    assert all(morsel.value not in toolbar for morsel in response.cookies.values())
