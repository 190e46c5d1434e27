"""The debug toolbar: on every HTML page with debug on, absent (not even imported) with it off."""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from portal.settings import Settings
from portal.testing import Client, MakeClient

TOOLBAR = 'id="pDebug"'


async def history(client: Client) -> list[tuple[str, int]]:
    """The toolbar's request history, newest first: (path, status) as its page lists them."""
    # The page fills its list from this event stream.
    text = await (await client.get("/_debugtoolbar/sse")).text()
    data = re.search(r"^data: (.*)$", text, re.MULTILINE)
    assert data, text
    return [(entry["path"], entry["status_code"]) for _, entry, _ in json.loads(data.group(1))]


def toolbar_link(page: str) -> str:
    """The address the handle on *page* opens."""
    link = re.search(r'<a id="pShowToolBarButton" href="(/_debugtoolbar/[0-9a-f]+)"', page)
    assert link, "no toolbar handle on the page"
    return link.group(1)


@pytest.fixture
async def debug_client(make_client: MakeClient, settings: Settings) -> Client:
    """The whole site with debug on."""
    return await make_client(dataclasses.replace(settings, debug=True))


@pytest.mark.parametrize("path", ["/", "/polls/", "/login", "/no/such/page"])
async def test_toolbar_is_on_html_pages_with_debug_on(debug_client: Client, path: str) -> None:
    response = await debug_client.get(path)

    assert TOOLBAR in await response.text()


@pytest.mark.parametrize("path", ["/_debugtoolbar", "/_debugtoolbar/"])
async def test_toolbar_serves_its_own_page_with_debug_on(debug_client: Client, path: str) -> None:
    response = await debug_client.get(path)

    assert response.status == 200
    assert "<title>Aiohttp Debug Toolbar</title>" in await response.text()


@pytest.mark.parametrize("path", ["/", "/polls/", "/login", "/no/such/page"])
async def test_toolbar_is_absent_with_debug_off(client: Client, path: str) -> None:
    response = await client.get(path)

    assert TOOLBAR not in await response.text()


@pytest.mark.parametrize("path", ["/_debugtoolbar", "/_debugtoolbar/"])
async def test_toolbar_pages_are_404_with_debug_off(client: Client, path: str) -> None:
    response = await client.get(path)

    assert response.status == 404


async def test_history_keeps_pages_not_static_files(debug_client: Client) -> None:
    page = await (await debug_client.get("/polls/")).text()
    for asset in (
        "/static/portal.css",
        "/polls/static/no-such-file.css",
        "/favicon.ico",
        "/_debugtoolbar/static/css/toolbar.css",
        toolbar_link(page),
    ):
        await debug_client.get(asset)

    assert await history(debug_client) == [("/polls/", 200)]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/no/such/page", 404),
        # The login redirect is raised past the error pages, to the toolbar.
        ("/admin/", 303),
    ],
)
async def test_history_lists_the_status_really_sent(
    debug_client: Client, path: str, status: int
) -> None:
    response = await debug_client.get(path, allow_redirects=False)

    assert response.status == status
    assert (await history(debug_client))[0] == (path, status)


async def test_an_unexpected_error_is_the_interactive_traceback_listed_as_500(
    make_client: MakeClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiohttp import web

    from portal.platform import views

    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("the home page broke")

    monkeypatch.setattr(views, "home", broken)
    client = await make_client(dataclasses.replace(settings, debug=True))

    response = await client.get("/")

    assert response.status == 500
    page = await response.text()
    assert "the home page broke" in page
    assert (await client.get(toolbar_link(page))).status == 200
    assert (await history(client))[0] == ("/", 500)


async def test_the_handle_opens_the_toolbar_in_the_same_tab(debug_client: Client) -> None:
    page = await (await debug_client.get("/polls/")).text()

    handle = page[page.index(TOOLBAR) :]
    assert "target=" not in handle
    assert "FIXME" not in page
    assert (await debug_client.get(toolbar_link(page))).status == 200


async def test_the_toolbar_page_links_back_to_the_page_it_shows(debug_client: Client) -> None:
    page = await (await debug_client.get("/polls/?after=3")).text()

    toolbar = await (await debug_client.get(toolbar_link(page))).text()

    assert re.search(r'<a id="pDebugBack"[^>]* href="/polls/\?after=3"', toolbar)


@pytest.mark.parametrize("debug", [False, True])
async def test_the_site_has_a_favicon(
    make_client: MakeClient, settings: Settings, debug: bool
) -> None:
    client = await make_client(dataclasses.replace(settings, debug=debug))

    response = await client.get("/favicon.ico")

    assert response.status == 200
    assert (await response.read()).startswith(b"\x00\x00\x01\x00")  # an ICO file


async def test_a_page_request_reads_no_route_source(
    debug_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The stock routes panel read every handler's source on every request: ~90 ms.
    reads: list[Any] = []

    def getsource(obj: Any) -> str:
        reads.append(obj)
        return ""

    monkeypatch.setattr(inspect, "getsource", getsource)

    for _ in range(3):
        await debug_client.get("/polls/")

    assert reads == []


async def test_route_sources_are_read_once_per_process(
    debug_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portal.platform.toolbar.inventory import handler_source

    handler_source.cache_clear()
    reads: list[Any] = []

    def getsource(obj: Any) -> str:
        reads.append(obj)
        return "source"

    monkeypatch.setattr(inspect, "getsource", getsource)
    page = await (await debug_client.get("/polls/")).text()
    await debug_client.get(toolbar_link(page))
    first = len(reads)

    page = await (await debug_client.get("/todos/")).text()
    await debug_client.get(toolbar_link(page))

    assert first > 0
    assert len(reads) == first


_BUILD = textwrap.dedent(
    """
    import sys
    from portal.main import create_app
    from portal.settings import Settings

    create_app(Settings(
        debug={debug},
        database_url="postgresql://unused.invalid/portal",
        secret_key="x" * 48,
    ))
    print("aiohttp_debugtoolbar" in sys.modules)
    """
)


@pytest.mark.parametrize(("debug", "imported"), [(False, "False"), (True, "True")])
def test_toolbar_is_imported_only_with_debug_on(debug: bool, imported: str) -> None:
    # A fresh interpreter: this test process has imported the toolbar already.
    result = subprocess.run(
        [sys.executable, "-c", _BUILD.format(debug=debug)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )

    assert result.stdout.strip() == imported
