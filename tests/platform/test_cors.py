"""CORS for the API: listed origins only, never credentials, never on HTML pages.

A browser calling the API from another origin: ``tests/e2e/test_cors.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

from portal.platform.edge.cors import ALLOWED_HEADERS, EXPOSED_HEADERS, MAX_AGE
from portal.settings import Settings, SettingsError, load_settings
from portal.testing import TEST_SECRET, Client, MakeClient

LISTED = "https://app.example.com"
UNLISTED = "https://evil.example.net"
CORS_HEADERS = (
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Expose-Headers",
    "Access-Control-Allow-Credentials",
    "Access-Control-Max-Age",
)


@pytest.fixture
async def cors_client(make_client: MakeClient, settings: Settings) -> Client:
    return await make_client(
        settings.with_overrides(cors_origins=(LISTED, "http://localhost:3000"))
    )


def preflight(origin: str, method: str = "POST") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization,content-type",
    }


def cors_of(response: Any) -> dict[str, str]:
    return {name: response.headers[name] for name in CORS_HEADERS if name in response.headers}


# Answers


async def test_a_listed_origin_may_read_an_api_answer(cors_client: Client) -> None:
    response = await cors_client.get("/api/todos/", headers={"Origin": LISTED})

    assert response.status == 200
    assert cors_of(response) == {
        "Access-Control-Allow-Origin": LISTED,
        "Access-Control-Expose-Headers": EXPOSED_HEADERS,
    }
    assert "Origin" in response.headers["Vary"]


async def test_an_unlisted_origin_gets_no_cors_header(cors_client: Client) -> None:
    response = await cors_client.get("/api/todos/", headers={"Origin": UNLISTED})

    assert (response.status, cors_of(response)) == (200, {})
    # A cache must not hand this answer to a listed origin.
    assert "Origin" in response.headers["Vary"]


async def test_an_error_answer_is_readable_by_a_listed_origin(cors_client: Client) -> None:
    response = await cors_client.post("/api/todos/", json={"name": "x"}, headers={"Origin": LISTED})

    assert response.status == 401
    assert response.headers["Access-Control-Allow-Origin"] == LISTED


async def test_with_no_origins_configured_no_cors_header_is_sent(client: Client) -> None:
    answer = await client.get("/api/todos/", headers={"Origin": LISTED})
    preflighted = await client.options("/api/todos/", headers=preflight(LISTED))

    assert (cors_of(answer), cors_of(preflighted)) == ({}, {})
    assert "Origin" not in answer.headers.get("Vary", "")


# Preflights


async def test_a_listed_origins_preflight_is_answered_with_the_routes_methods(
    cors_client: Client,
) -> None:
    response = await cors_client.options("/api/todos/1", headers=preflight(LISTED, "PATCH"))

    assert response.status == 204
    assert cors_of(response) == {
        "Access-Control-Allow-Origin": LISTED,
        "Access-Control-Allow-Methods": "DELETE, GET, PATCH",
        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
        "Access-Control-Expose-Headers": EXPOSED_HEADERS,
        "Access-Control-Max-Age": str(MAX_AGE),
    }


async def test_an_unlisted_origins_preflight_gets_no_cors_header(cors_client: Client) -> None:
    response = await cors_client.options("/api/todos/", headers=preflight(UNLISTED))

    assert response.status == 405
    assert cors_of(response) == {}


async def test_a_preflight_for_an_unknown_api_path_is_not_allowed(cors_client: Client) -> None:
    response = await cors_client.options("/api/nothing-here/", headers=preflight(LISTED))

    assert response.status == 404
    assert "Access-Control-Allow-Methods" not in response.headers


async def test_preflights_are_not_counted_by_the_rate_limiter(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await make_client(
        settings.with_overrides(cors_origins=(LISTED,), api_rate_limit="1/minute")
    )
    for _ in range(3):
        assert (await client.options("/api/todos/", headers=preflight(LISTED))).status == 204

    response = await client.get("/api/todos/", headers={"Origin": LISTED})

    assert response.status == 200


# HTML pages


@pytest.mark.parametrize("path", ["/", "/polls/", "/todos/", "/admin/", "/login"])
async def test_html_pages_never_get_cors_headers(cors_client: Client, path: str) -> None:
    answer = await cors_client.get(path, headers={"Origin": LISTED}, allow_redirects=False)
    preflighted = await cors_client.options(path, headers=preflight(LISTED))

    assert (cors_of(answer), cors_of(preflighted)) == ({}, {})


async def test_the_csrf_check_leaves_an_options_request_alone(cors_client: Client) -> None:
    # An unsafe method from another origin to a form would be refused 403;
    # OPTIONS is a safe method and only meets the router's 405.
    response = await cors_client.options("/polls/1/vote", headers=preflight(UNLISTED))

    assert response.status == 405


# Settings


def test_origins_come_from_a_comma_separated_variable() -> None:
    settings = load_settings(
        environ={
            "PORTAL_SECRET_KEY": TEST_SECRET,
            "PORTAL_CORS_ORIGINS": "https://App.Example.com, http://localhost:3000",
        }
    )

    assert settings.cors_origins == ("https://app.example.com", "http://localhost:3000")


@pytest.mark.parametrize(
    "origin",
    [
        "*",
        "app.example.com",
        "https://app.example.com/",
        "https://app.example.com/path",
        "https://app.example.com:443",
        "ftp://app.example.com",
        "null",
    ],
)
def test_a_bad_origin_stops_start_up_naming_the_key(origin: str) -> None:
    environ = {"PORTAL_SECRET_KEY": TEST_SECRET, "PORTAL_CORS_ORIGINS": origin}

    with pytest.raises(SettingsError, match="'cors_origins'"):
        load_settings(environ=environ)
