"""The Host allow-list: with debug off only the site's own names are answered."""

from __future__ import annotations

import dataclasses

import pytest

from portal.platform.hosts import LOCAL_HOSTS, host_allowed
from portal.settings import Settings
from tests.conftest import Client, MakeClient


async def test_a_request_for_another_host_is_refused(client: Client) -> None:
    response = await client.get("/polls/", headers={"Host": "evil.example"})

    assert response.status == 400
    assert "host" in (await response.text()).lower()


async def test_the_refusal_is_the_site_s_error_page(client: Client) -> None:
    response = await client.get("/polls/", headers={"Host": "evil.example"})

    assert response.content_type == "text/html"
    assert '<nav class="site-nav"' in await response.text()


async def test_an_api_request_for_another_host_is_a_problem_document(client: Client) -> None:
    response = await client.get("/api/", headers={"Host": "evil.example"})

    assert response.status == 400
    assert response.content_type == "application/problem+json"


async def test_localhost_is_answered_by_default(client: Client) -> None:
    response = await client.get("/healthz", headers={"Host": "localhost:8000"})

    assert response.status == 200


async def test_a_configured_host_is_answered(make_client: MakeClient, settings: Settings) -> None:
    client = await make_client(dataclasses.replace(settings, allowed_hosts=("portal.example",)))

    ours = await client.get("/healthz", headers={"Host": "portal.example"})
    local = await client.get("/healthz", headers={"Host": "localhost"})

    assert (ours.status, local.status) == (200, 400)


async def test_with_debug_on_any_host_is_answered(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await make_client(dataclasses.replace(settings, debug=True))

    response = await client.get("/healthz", headers={"Host": "evil.example"})

    assert response.status == 200


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("example.com", True),
        ("EXAMPLE.com:8443", True),
        ("www.example.com", True),
        ("example.com.", True),
        ("evilexample.com", False),
        ("example.com.evil.net", False),
        ("", False),
    ],
)
def test_a_leading_dot_allows_the_domain_and_its_subdomains(host: str, allowed: bool) -> None:
    assert host_allowed(host, (".example.com",)) is allowed


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1:8000", "[::1]:8000"])
def test_the_local_names_include_ipv6_with_a_port(host: str) -> None:
    assert host_allowed(host, LOCAL_HOSTS)
