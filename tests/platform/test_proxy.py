"""Behind a reverse proxy: https and the client's address, believed from trusted peers only."""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import re
from http.cookies import SimpleCookie

import aiohttp
import pytest

from portal.platform.auth.users import User
from portal.platform.edge.proxy import client_address
from portal.settings import Settings
from portal.testing import PASSWORD, Client, MakeClient

HTTPS = {"X-Forwarded-Proto": "https"}
_CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def behind(settings: Settings, *proxies: str) -> Settings:
    return dataclasses.replace(settings, trusted_proxies=proxies)


async def proxied_client(make_client: MakeClient, settings: Settings) -> Client:
    """A client whose cookies are handled by hand, as a browser would over https.

    aiohttp's cookie jar never sends a ``Secure`` cookie to the plain-http
    test server, though the browser behind the proxy would.
    """
    return await make_client(settings, cookie_jar=aiohttp.DummyCookieJar())


def session_cookie(response: aiohttp.ClientResponse) -> tuple[str, str]:
    """The session cookie's name and its whole Set-Cookie header."""
    header = response.headers["Set-Cookie"]
    name = next(iter(SimpleCookie(header)))
    return name, header


async def test_https_from_a_trusted_proxy_gets_the_host_prefixed_secure_cookie(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await proxied_client(make_client, behind(settings, "127.0.0.1"))

    response = await client.get("/login", headers=HTTPS)

    name, header = session_cookie(response)
    assert name == "__Host-portal_session"
    assert "Secure" in header
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Path=/" in header
    assert "Domain" not in header


async def test_https_claimed_by_an_untrusted_peer_is_ignored(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await proxied_client(make_client, behind(settings, "10.0.0.0/8"))

    response = await client.get("/login", headers=HTTPS)

    name, header = session_cookie(response)
    assert name == "portal_session"
    assert "Secure" not in header
    assert "Strict-Transport-Security" not in response.headers


async def test_plain_http_from_a_trusted_proxy_keeps_the_plain_cookie(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await proxied_client(make_client, behind(settings, "127.0.0.1"))

    response = await client.get("/login", headers={"X-Forwarded-Proto": "http"})

    assert session_cookie(response)[0] == "portal_session"


async def test_a_login_over_https_holds_with_the_secure_cookie(
    make_client: MakeClient, settings: Settings, user: User
) -> None:
    client = await proxied_client(make_client, behind(settings, "127.0.0.1"))
    page = await client.get("/login", headers=HTTPS)
    name, _ = session_cookie(page)
    cookie = f"{name}={page.cookies[name].value}"
    token = _CSRF_INPUT.search(await page.text())
    assert token is not None

    login = await client.post(
        "/login",
        data={"username": "alice", "password": PASSWORD, "csrf_token": token.group(1)},
        headers={**HTTPS, "Cookie": cookie},
        allow_redirects=False,
    )
    name, _ = session_cookie(login)
    home = await client.get("/", headers={**HTTPS, "Cookie": f"{name}={login.cookies[name].value}"})

    assert login.status == 303
    assert "You are logged in as" in await home.text()


async def test_hsts_is_sent_over_https(make_client: MakeClient, settings: Settings) -> None:
    client = await make_client(behind(settings, "127.0.0.1"))

    response = await client.get("/static/portal.css", headers=HTTPS)

    assert response.headers["Strict-Transport-Security"] == f"max-age={365 * 24 * 3600}"


async def test_hsts_is_not_sent_over_plain_http(client: Client) -> None:
    response = await client.get("/")

    assert "Strict-Transport-Security" not in response.headers


async def test_hsts_is_off_when_its_max_age_is_zero(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await make_client(dataclasses.replace(behind(settings, "127.0.0.1"), hsts_seconds=0))

    response = await client.get("/", headers=HTTPS)

    assert "Strict-Transport-Security" not in response.headers


async def test_a_form_posted_over_https_must_name_the_https_origin(
    make_client: MakeClient, settings: Settings, user: User
) -> None:
    client = await proxied_client(make_client, behind(settings, "127.0.0.1"))
    page = await client.get("/login", headers=HTTPS)
    name, _ = session_cookie(page)
    token = _CSRF_INPUT.search(await page.text())
    assert token is not None
    host = f"{client.server.host}:{client.server.port}"

    async def post_from(origin: str) -> int:
        response = await client.post(
            "/login",
            data={"username": "alice", "password": PASSWORD, "csrf_token": token.group(1)},
            headers={**HTTPS, "Origin": origin, "Cookie": f"{name}={page.cookies[name].value}"},
            allow_redirects=False,
        )
        return response.status

    assert await post_from(f"http://{host}") == 403
    assert await post_from(f"https://{host}") == 303


async def logged_client_of_failed_login(
    client: Client, forwarded_for: str, caplog: pytest.LogCaptureFixture
) -> str:
    """The last ``portal.auth`` line after a failed login sent with *forwarded_for*."""
    page = await client.get("/login")
    token = _CSRF_INPUT.search(await page.text())
    assert token is not None
    with caplog.at_level(logging.INFO, logger="portal.auth"):
        await client.post(
            "/login",
            data={"username": "alice", "password": "wrong-password", "csrf_token": token.group(1)},
            headers={"X-Forwarded-For": forwarded_for},
        )
    return caplog.records[-1].getMessage()


async def test_the_login_log_names_the_client_a_trusted_proxy_reports(
    make_client: MakeClient, settings: Settings, user: User, caplog: pytest.LogCaptureFixture
) -> None:
    client = await make_client(behind(settings, "127.0.0.1", "10.0.0.0/8"))

    line = await logged_client_of_failed_login(
        client, "198.51.100.7, 203.0.113.5, 10.0.0.2", caplog
    )

    assert "from 203.0.113.5" in line


async def test_a_forwarded_for_from_an_untrusted_peer_is_not_believed(
    client: Client, user: User, caplog: pytest.LogCaptureFixture
) -> None:
    line = await logged_client_of_failed_login(client, "203.0.113.5", caplog)

    assert "from 127.0.0.1" in line


NETWORKS = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("127.0.0.1/32"))


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        ("192.0.2.1", "203.0.113.5", "192.0.2.1"),  # untrusted peer: its header is ignored
        ("127.0.0.1", "203.0.113.5", "203.0.113.5"),
        ("127.0.0.1", "198.51.100.7, 203.0.113.5", "203.0.113.5"),  # the left is client-written
        ("127.0.0.1", "203.0.113.5, 10.1.2.3", "203.0.113.5"),  # two proxies deep
        ("127.0.0.1", "", "127.0.0.1"),
        ("127.0.0.1", "not-an-address, 10.1.2.3", "not-an-address"),
    ],
)
def test_client_address_is_the_nearest_untrusted_hop(
    peer: str, forwarded_for: str, client: str
) -> None:
    assert client_address(peer, forwarded_for, NETWORKS) == client
