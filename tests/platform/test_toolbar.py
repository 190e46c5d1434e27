"""The debug toolbar: on every HTML page with debug on, absent (not even imported) with it off."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap

import pytest

from portal.settings import Settings
from tests.conftest import Client, MakeClient

TOOLBAR = 'id="pDebug"'


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
