"""Error pages: HTML sections answer in the shared layout, the JSON API in problem+json."""

from __future__ import annotations

import dataclasses
import logging

import pytest
from aiohttp import web

from portal.platform.appspec import AppSpec
from portal.platform.policy import HTML_SITE, JSON_API
from portal.settings import Settings
from portal.testing import Client, MakeClient
from tests.conftest import INSTALLED_APPS

LAYOUT = '<nav class="site-nav"'
SECRET_DETAIL = "the launch codes are 0000"


async def _index(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def _boom(request: web.Request) -> web.Response:
    raise RuntimeError(SECRET_DETAIL)


def _build_broken(settings: Settings) -> web.Application:
    """A test-only app with one healthy route and one whose view raises."""
    app = web.Application()
    app.router.add_get("/", _index, name="index")
    app.router.add_get("/boom", _boom, name="boom")
    return app


BROKEN_SITE = AppSpec(
    name="broken",
    title="Broken",
    description="A test app whose view raises.",
    factory=_build_broken,
    policy=HTML_SITE,
)
BROKEN_API = AppSpec(
    name="japi",
    title="Test API",
    description="A test JSON API whose view raises.",
    factory=_build_broken,
    policy=JSON_API,
)


def with_test_apps(settings: Settings) -> Settings:
    # Settings validation only knows the real apps; the test apps are added directly.
    return dataclasses.replace(
        settings, apps={**settings.apps, "broken": "/broken/", "japi": "/japi/"}
    )


@pytest.fixture
async def broken(make_client: MakeClient, settings: Settings) -> Client:
    """The whole site (debug off) with the two test apps mounted beside the real ones."""
    return await make_client(
        with_test_apps(settings), apps=[*INSTALLED_APPS, BROKEN_SITE, BROKEN_API]
    )


@pytest.fixture
async def broken_debug(make_client: MakeClient, settings: Settings) -> Client:
    """The same with debug on."""
    debug = dataclasses.replace(with_test_apps(settings), debug=True)
    return await make_client(debug, apps=[*INSTALLED_APPS, BROKEN_SITE, BROKEN_API])


@pytest.mark.parametrize("path", ["/no/such/page", "/polls/no/such/page", "/polls/999999/"])
async def test_unknown_path_is_a_404_page_in_the_shared_layout(client: Client, path: str) -> None:
    response = await client.get(path)

    body = await response.text()
    assert response.status == 404
    assert response.content_type == "text/html"
    assert LAYOUT in body
    assert "404 · Not Found" in body


async def test_404_page_says_why_when_the_view_does(client: Client) -> None:
    response = await client.get("/polls/999999/")

    assert "There is no such question." in await response.text()


async def test_missing_trailing_slash_redirects(client: Client) -> None:
    response = await client.get("/polls", allow_redirects=False)

    assert response.status in {301, 308}
    assert response.headers["Location"] == "/polls/"


async def test_raising_view_is_a_500_page_without_details(broken: Client) -> None:
    response = await broken.get("/broken/boom")

    body = await response.text()
    assert response.status == 500
    assert response.content_type == "text/html"
    assert LAYOUT in body
    assert "500 · Internal Server Error" in body
    assert SECRET_DETAIL not in body
    assert "RuntimeError" not in body
    assert "Traceback" not in body


async def test_raising_view_is_logged_with_its_traceback(
    broken: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="portal.platform.edge.errorpages"):
        await broken.get("/broken/boom")

    (record,) = [r for r in caplog.records if r.name == "portal.platform.edge.errorpages"]
    assert record.exc_info is not None
    assert SECRET_DETAIL in str(record.exc_info[1])


async def test_api_404_is_problem_json(broken: Client) -> None:
    response = await broken.get("/japi/no/such/thing")

    assert response.status == 404
    assert response.content_type == "application/problem+json"
    # Every JSON section's problems share the api app's kinds.
    assert await response.json() == {
        "type": "/api/problems/not-found",
        "title": "Not Found",
        "status": 404,
    }


async def test_api_405_is_problem_json_with_allow(broken: Client) -> None:
    response = await broken.post("/japi/boom", json={})

    assert response.status == 405
    assert response.content_type == "application/problem+json"
    assert "GET" in response.headers["Allow"]
    problem = await response.json()
    assert (problem["status"], problem["title"]) == (405, "Method Not Allowed")


async def test_api_500_is_problem_json_without_details(broken: Client) -> None:
    response = await broken.get("/japi/boom")

    body = await response.text()
    assert response.status == 500
    assert response.content_type == "application/problem+json"
    assert SECRET_DETAIL not in body
    assert "Traceback" not in body
    problem = await response.json()
    assert (problem["status"], problem["title"]) == (500, "Internal Server Error")


async def test_api_500_is_problem_json_even_with_debug_on(broken_debug: Client) -> None:
    response = await broken_debug.get("/japi/boom")

    body = await response.text()
    assert response.status == 500
    assert response.content_type == "application/problem+json"
    assert SECRET_DETAIL not in body
    assert "Traceback" not in body


async def test_api_post_needs_no_csrf_token(broken: Client) -> None:
    # JSON_API sections are not cookie-CSRF protected: the POST reaches routing (405).
    response = await broken.post("/japi/", json={})

    assert response.status == 405


async def test_raising_view_shows_the_traceback_with_debug_on(broken_debug: Client) -> None:
    # Debug on: the error reaches the toolbar, which shows it to the developer.
    response = await broken_debug.get("/broken/boom")

    body = await response.text()
    assert response.status == 500
    assert "RuntimeError" in body
    assert SECRET_DETAIL in body
