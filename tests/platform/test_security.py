"""Security headers on every response: pages, errors and static files alike."""

from __future__ import annotations

import dataclasses

import pytest

from portal.main import INSTALLED_APPS
from portal.platform.security import CONTENT_SECURITY_POLICY
from portal.settings import Settings
from tests.conftest import Client, MakeClient
from tests.platform.test_errors import BROKEN_API, BROKEN_SITE, with_test_apps

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
}

# (path, status): a page, a sub-app page, errors in both formats, static files.
RESPONSES = [
    ("/", 200),
    ("/polls/", 200),
    ("/no/such/page", 404),
    ("/broken/boom", 500),
    ("/japi/boom", 500),
    ("/japi/nothing", 404),
    ("/static/portal.css", 200),
    ("/polls/static/polls.css", 200),
]


async def site(make_client: MakeClient, settings: Settings) -> Client:
    return await make_client(
        with_test_apps(settings), apps=[*INSTALLED_APPS, BROKEN_SITE, BROKEN_API]
    )


@pytest.mark.parametrize(("path", "status"), RESPONSES)
async def test_every_response_carries_the_security_headers(
    make_client: MakeClient, settings: Settings, path: str, status: int
) -> None:
    client = await site(make_client, settings)

    response = await client.get(path)

    assert response.status == status
    assert {name: response.headers.get(name) for name in EXPECTED} == EXPECTED


async def test_csrf_refusal_carries_the_security_headers(client: Client) -> None:
    response = await client.post("/logout")

    assert response.status == 403
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


async def test_csp_is_off_with_debug_on(make_client: MakeClient, settings: Settings) -> None:
    client = await make_client(dataclasses.replace(settings, debug=True))

    response = await client.get("/")

    assert response.status == 200
    assert "Content-Security-Policy" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_pages_use_no_inline_script_or_style(client: Client) -> None:
    # The CSP forbids inline scripts and styles: the pages must not need them.
    body = await (await client.get("/")).text()

    assert "<script>" not in body
    assert "<style" not in body
    assert " style=" not in body
