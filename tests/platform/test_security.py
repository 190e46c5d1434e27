"""Security headers on every response: pages, errors and static files alike."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from portal.platform.edge.headers import CONTENT_SECURITY_POLICY, SERVER
from portal.settings import Settings, load_settings
from portal.testing import TEST_SECRET, Client, MakeClient
from tests.conftest import INSTALLED_APPS
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


@pytest.mark.parametrize(("path", "status"), RESPONSES)
async def test_every_response_says_only_portal_as_its_server(
    make_client: MakeClient, settings: Settings, path: str, status: int
) -> None:
    client = await site(make_client, settings)

    response = await client.get(path)

    assert response.status == status
    assert response.headers.getall("Server") == [SERVER]


async def test_a_refusal_says_only_portal_as_its_server(client: Client) -> None:
    response = await client.post("/logout")

    assert response.status == 403
    assert response.headers.getall("Server") == [SERVER]


async def test_a_request_aiohttp_refuses_before_the_app_says_only_portal(client: Client) -> None:
    # A malformed header line is answered 400 by aiohttp's protocol layer,
    # which runs none of the app's hooks.
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(b"GET / HTTP/1.1\r\nHost: localhost\r\nno colon here\r\n\r\n")
    await writer.drain()
    # aiohttp closes the connection after such an answer.
    head = (await reader.read()).decode("latin-1")
    writer.close()
    await writer.wait_closed()

    assert head.split(" ", 2)[1] == "400"
    assert "aiohttp" not in head
    assert "Python" not in head
    assert f"\r\nServer: {SERVER}\r\n" in head


HTTPS = {"X-Forwarded-Proto": "https"}


def over_https(settings: Settings) -> Settings:
    """*settings* behind a trusted proxy on this machine, which reports https."""
    return dataclasses.replace(settings, trusted_proxies=("127.0.0.1",))


async def test_hsts_covers_subdomains_when_asked(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await make_client(
        dataclasses.replace(over_https(settings), hsts_include_subdomains=True)
    )

    response = await client.get("/", headers=HTTPS)

    assert response.headers["Strict-Transport-Security"] == (
        f"max-age={365 * 24 * 3600}; includeSubDomains"
    )


def test_hsts_include_subdomains_is_read_from_the_environment() -> None:
    environ = {"PORTAL_HSTS_INCLUDE_SUBDOMAINS": "1", "PORTAL_SECRET_KEY": TEST_SECRET}

    assert load_settings(environ=environ).hsts_include_subdomains is True
    assert (
        load_settings(environ={"PORTAL_SECRET_KEY": TEST_SECRET}).hsts_include_subdomains is False
    )


def test_hsts_include_subdomains_is_read_from_the_yaml_file(tmp_path: Path) -> None:
    config = tmp_path / "portal.yaml"
    config.write_text("hsts_include_subdomains: true\n", encoding="utf-8")

    settings = load_settings(config_file=config, environ={"PORTAL_SECRET_KEY": TEST_SECRET})

    assert settings.hsts_include_subdomains is True
