"""The login throttle against hostile clients, on every form that takes a password.

The forms are found by reading the site's public pages, so a new page asking
for a password gets these cases without being listed. Property-based
(Hypothesis) over the headers a client may send to pass for someone else.
"""

from __future__ import annotations

import html
import ipaddress
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp.web_urldispatcher import PlainResource
from hypothesis import given
from hypothesis import strategies as st

from portal.platform.auth.users import User
from portal.settings import Settings
from portal.testing import PASSWORD, Client, MakeClient, csrf_token
from tests.platform.test_hostile_forms import _URLENCODED, PROPERTY
from tests.platform.test_route_inventory import PUBLIC, inventory


@dataclass(frozen=True, slots=True)
class PasswordForm:
    """A form with a password input, as a public page renders it."""

    action: str
    #: The visible text input beside the password (the account name).
    username: str
    password: str


_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S)
_INPUT = re.compile(r"<input\b([^>]*)>")


def _attribute(tag: str, name: str) -> str | None:
    found = re.search(rf'\b{name}="([^"]*)"', tag)
    return html.unescape(found.group(1)) if found else None


async def password_forms(client: Client) -> list[PasswordForm]:
    """Every form with a password input on the public pages without path parameters.

    Found by reading the pages, so a new page asking for a password is
    covered by the throttle cases below without being listed here.
    """
    found: set[PasswordForm] = set()
    for route in inventory(client.app):
        if route.key not in PUBLIC or route.method != "GET" or not route.policy.csrf:
            continue
        if not isinstance(route.resource, PlainResource):
            # Pages with path parameters, and static files.
            continue
        page = await client.get(route.resource.url_for(), allow_redirects=False)
        if page.content_type != "text/html":
            continue
        for attributes, body in _FORM.findall(await page.text()):
            inputs = [
                (_attribute(tag, "type") or "text", _attribute(tag, "name"))
                for tag in _INPUT.findall(body)
            ]
            passwords = [name for kind, name in inputs if kind == "password" and name]
            texts_ = [name for kind, name in inputs if kind in ("text", "email") and name]
            if passwords and texts_:
                action = _attribute(attributes, "action") or str(route.resource.url_for())
                found.add(PasswordForm(action, texts_[0], passwords[0]))
    return sorted(found, key=lambda form: form.action)


async def post_password_form(
    client: Client, form: PasswordForm, username: str, password: str, headers: dict[str, str]
) -> Any:
    token = await csrf_token(client)
    body = urlencode(
        [("csrf_token", token), (form.username, username), (form.password, password)]
    ).encode()
    return await client.post(
        form.action, data=body, headers={**_URLENCODED, **headers}, allow_redirects=False
    )


async def test_the_login_page_is_found_among_the_password_forms(client: Client) -> None:
    assert PasswordForm("/login", "username", "password") in await password_forms(client)


#: Headers some proxies use to name the client; none is believed from an untrusted peer.
CLIENT_HEADERS = ["X-Forwarded-For", "X-Real-IP", "Forwarded", "True-Client-IP", "Client-IP"]
#: Any value a header can carry: an address, a list of them, or other text.
HEADER_VALUE = st.one_of(
    st.ip_addresses().map(str),
    st.lists(st.ip_addresses().map(str), min_size=1, max_size=4).map(", ".join),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40),
)


@pytest.fixture
async def address_exhausted(client: Client) -> tuple[Client, list[PasswordForm]]:
    """The client (an untrusted peer) after 30 failures, one per account, on every password form."""
    forms = await password_forms(client)
    for form in forms:
        for n in range(30):
            response = await post_password_form(client, form, f"user{n}", "wrong", {})
            assert response.status == 400
    return client, forms


@PROPERTY
@given(headers=st.dictionaries(st.sampled_from(CLIENT_HEADERS), HEADER_VALUE, min_size=1))
async def test_no_header_takes_a_client_past_its_addresss_limit(
    address_exhausted: tuple[Client, list[PasswordForm]], headers: dict[str, str]
) -> None:
    client, forms = address_exhausted

    for form in forms:
        response = await post_password_form(client, form, "another", "wrong", headers)

        assert response.status == 429


#: The stranger, behind the trusted proxy; any address of their IPv6 /64 is theirs.
STRANGERS_NETWORK = ipaddress.IPv6Network("2001:db8:5:6::/64")


@pytest.fixture
async def behind_proxy(
    make_client: MakeClient, settings: Settings, user: User
) -> tuple[Client, list[PasswordForm]]:
    """A client through a trusted proxy, after the stranger's 10 failures for ``alice``."""
    client = await make_client(settings.with_overrides(trusted_proxies=("127.0.0.1",)))
    forms = await password_forms(client)
    stranger = {"X-Forwarded-For": str(STRANGERS_NETWORK[1])}
    for form in forms:
        for _ in range(10):
            response = await post_password_form(client, form, "alice", "wrong", stranger)
            assert response.status == 400
    return client, forms


def _not_loopback(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    # A loopback hop would be the trusted proxy itself, and the hop left of it the client.
    return not address.is_loopback and not (
        isinstance(address, ipaddress.IPv6Address)
        and address.ipv4_mapped is not None
        and address.ipv4_mapped.is_loopback
    )


@PROPERTY
@given(
    forged=st.lists(st.one_of(st.ip_addresses().map(str), HEADER_VALUE), max_size=3),
    client_address=st.one_of(
        st.integers(0, 2**64 - 1).map(lambda host: STRANGERS_NETWORK[host]),
        st.ip_addresses().filter(_not_loopback),
    ),
)
async def test_behind_a_proxy_only_the_reported_clients_own_failures_count(
    behind_proxy: tuple[Client, list[PasswordForm]],
    forged: list[str],
    client_address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    client, forms = behind_proxy
    # The proxy appends the address it saw; whatever is left of it the client wrote.
    headers = {"X-Forwarded-For": ", ".join([*forged, str(client_address)])}

    for form in forms:
        client.session.cookie_jar.clear()
        response = await post_password_form(client, form, "alice", PASSWORD, headers)

        assert response.status == (429 if client_address in STRANGERS_NETWORK else 303)
