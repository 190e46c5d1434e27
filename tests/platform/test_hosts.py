"""The Host header: malformed ones refused always, and only the site's own names
answered (with debug on, this machine's names too)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as settings_
from hypothesis import strategies as st

from portal.platform.edge.hosts import LOCAL_HOSTS, host_allowed, parse_host
from portal.settings import Settings
from portal.testing import Client, MakeClient


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


@pytest.mark.parametrize("path", ["/healthz", "/polls/", "/_debugtoolbar/"])
async def test_with_debug_on_another_host_is_refused_toolbar_included(
    make_client: MakeClient, settings: Settings, path: str
) -> None:
    # A DNS-rebinding page would otherwise read the dev pages and the toolbar.
    client = await make_client(dataclasses.replace(settings, debug=True))

    response = await client.get(path, headers={"Host": "evil.example"}, allow_redirects=False)

    assert response.status == 400


async def test_with_debug_on_local_and_configured_hosts_are_answered(
    make_client: MakeClient, settings: Settings
) -> None:
    debug = dataclasses.replace(settings, debug=True, allowed_hosts=("dev.example",))
    client = await make_client(debug)
    hosts = ["localhost:8000", "127.0.0.1", "[::1]:8000", "dev.example"]

    statuses = {
        host: (await client.get("/healthz", headers={"Host": host})).status for host in hosts
    }

    assert set(statuses.values()) == {200}, statuses


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


# Parsed as RFC 9110 has it: uri-host [":" port], nothing else

#: Not a host with an optional port, each with a name that is allowed in front.
MALFORMED = [
    "localhost:evil.example",
    "127.0.0.1:8200@evil.example",
    "localhost:8200/evil.example",
    "localhost:8200:8201",
    "localhost:-1",
    "localhost:+80",
    "localhost:\uff18\uff10",  # fullwidth digits
    "alice@localhost",
    "localhost#evil.example",
    "localhost?evil.example",
    "localhost\\evil.example",
    "local%zzhost",
    "::1",
    "[::1",
    "[::1]evil.example",
    "[::1]:80x",
    "[::1%25eth0]",
    "[localhost]",
    "[v1.fe]",
    ":8000",
    ".",
    "",
]
#: Well formed, naming this machine.
LOCAL = [
    "localhost",
    "LocalHost",
    "localhost.",
    "localhost:",
    "localhost:8000",
    "127.0.0.1:80",
    "[::1]",
    "[::1]:8000",
    "[0:0:0:0:0:0:0:1]:8000",
]


@pytest.mark.parametrize("host", MALFORMED)
def test_a_malformed_host_is_parsed_as_none(host: str) -> None:
    assert parse_host(host) is None


@pytest.mark.parametrize("host", LOCAL)
def test_a_well_formed_local_host_is_allowed(host: str) -> None:
    assert host_allowed(host, LOCAL_HOSTS)


@pytest.mark.parametrize("host", ["Example.COM:443", "example.com.", "EXAMPLE.com"])
def test_a_host_name_is_compared_lower_cased_without_its_port_or_final_dot(host: str) -> None:
    assert parse_host(host) == "example.com"


def test_a_name_of_any_rfc_3986_reg_name_characters_is_well_formed() -> None:
    assert parse_host("a-b_c~d!$&'()*+,;=%41") == "a-b_c~d!$&'()*+,;=%41"


async def test_a_malformed_host_is_refused_with_the_site_s_error_page(client: Client) -> None:
    wrong = []
    for host in MALFORMED:
        response = await client.get("/healthz", headers={"Host": host})
        if (response.status, response.content_type) != (400, "text/html"):
            wrong.append((host, response.status, response.content_type))

    assert not wrong


async def test_with_debug_on_a_malformed_host_is_still_refused(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await make_client(dataclasses.replace(settings, debug=True))
    wrong = []
    for host in MALFORMED:
        response = await client.get("/healthz", headers={"Host": host})
        if response.status != 400:
            wrong.append((host, response.status))

    assert not wrong


async def test_a_well_formed_local_host_is_answered(client: Client) -> None:
    statuses = {
        host: (await client.get("/healthz", headers={"Host": host})).status for host in LOCAL
    }

    assert set(statuses.values()) == {200}, statuses


async def test_a_wildcard_allows_any_well_formed_host_only(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await make_client(dataclasses.replace(settings, allowed_hosts=("*",)))

    anything = await client.get("/healthz", headers={"Host": "anything.example:8080"})
    malformed = await client.get("/healthz", headers={"Host": "anything.example:evil"})

    assert (anything.status, malformed.status) == (200, 400)


#: Printable ASCII, the characters a Host header can carry through any client.
_PRINTABLE = st.characters(min_codepoint=0x21, max_codepoint=0x7E)


@settings_(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    after=st.one_of(
        # Anything after the colon but a port.
        st.text(_PRINTABLE, min_size=1).filter(lambda text: not text.isdigit()).map(":{}".format),
        # A character no host name has, then anything.
        st.tuples(st.sampled_from('@/?#[]\\"<>^`{|}'), st.text(_PRINTABLE)).map("".join),
    )
)
async def test_an_allowed_name_followed_by_anything_but_a_port_is_refused(
    client: Client, after: str
) -> None:
    response = await client.get("/healthz", headers={"Host": f"localhost{after}"})

    assert response.status == 400
