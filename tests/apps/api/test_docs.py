"""``/api/docs``: Swagger UI from the installed package, under the site's CSP, linked from
the API's index and the home page, following the API's prefix."""

from __future__ import annotations

import re

import pytest

from portal.apps.api.docs import DOCS_CONTENT_SECURITY_POLICY, SWAGGER_UI
from portal.platform.edge.headers import CONTENT_SECURITY_POLICY
from portal.settings import Settings
from portal.testing import Client, MakeClient

_SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
_ASSET = re.compile(r'(?:src|href)="([^"]+\.(?:js|css)(?:\?[^"]*)?)"')


def _assets(page: str) -> list[str]:
    return _ASSET.findall(page)


@pytest.fixture
async def moved(make_client: MakeClient, settings: Settings) -> Client:
    """The site with the API at ``/v1/``."""
    return await make_client(settings.with_overrides(apps={"api": "/v1/"}))


async def test_the_docs_page_is_html_pointing_swagger_ui_at_the_document(client: Client) -> None:
    response = await client.get("/api/docs")

    page = await response.text()
    assert response.status == 200
    assert response.content_type == "text/html"
    assert 'data-openapi-url="/api/openapi.json"' in page
    assert f"/api/docs/{SWAGGER_UI.name}/swagger-ui-bundle.js" in page


async def test_swagger_ui_is_version_5_which_renders_openapi_3_1() -> None:
    version = SWAGGER_UI.name.removeprefix("swagger-ui-")

    assert int(version.split(".")[0]) == 5


async def test_the_page_has_no_inline_script(client: Client) -> None:
    page = await (await client.get("/api/docs")).text()

    scripts = _SCRIPT.findall(page)
    assert len(scripts) == 2
    assert all("src=" in attributes for attributes in scripts)


@pytest.mark.parametrize(
    ("suffix", "content_type"),
    [(".js", "text/javascript"), (".css", "text/css")],
)
async def test_every_asset_the_page_names_is_served_with_its_type(
    client: Client, suffix: str, content_type: str
) -> None:
    page = await (await client.get("/api/docs")).text()
    assets = [url for url in _assets(page) if url.split("?")[0].endswith(suffix)]

    assert assets
    for url in assets:
        response = await client.get(url)
        assert response.status == 200, url
        assert response.content_type in (content_type, "application/javascript"), url


async def test_a_missing_swagger_ui_file_is_a_problem_404(client: Client) -> None:
    response = await client.get(f"/api/docs/{SWAGGER_UI.name}/no-such-file.js")

    assert response.status == 404
    assert response.content_type == "application/problem+json"


async def test_the_page_lets_in_data_images_and_nothing_else_beyond_the_site_policy(
    client: Client,
) -> None:
    response = await client.get("/api/docs")

    policy = response.headers["Content-Security-Policy"]
    assert policy == DOCS_CONTENT_SECURITY_POLICY
    assert policy.removeprefix(CONTENT_SECURITY_POLICY) == "; img-src 'self' data:"


async def test_other_pages_keep_the_site_policy(client: Client) -> None:
    for path in ("/", "/api/problems/not-found", "/api/openapi.json"):
        response = await client.get(path, headers={"Accept": "text/html"})
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, path


async def test_with_debug_on_the_page_sends_no_policy(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await make_client(settings.with_overrides(debug=True))

    response = await client.get("/api/docs")

    assert response.status == 200
    assert "Content-Security-Policy" not in response.headers


async def test_the_api_index_links_the_docs(client: Client) -> None:
    index = await (await client.get("/api/")).json()

    assert index["docs"] == "/api/docs"


async def test_the_home_page_links_the_docs(client: Client) -> None:
    home = await (await client.get("/")).text()

    assert 'href="/api/docs"' in home


async def test_a_moved_api_moves_the_page_its_links_and_its_files(moved: Client) -> None:
    page = await (await moved.get("/v1/docs")).text()
    index = await (await moved.get("/v1/")).json()
    home = await (await moved.get("/")).text()

    assert 'data-openapi-url="/v1/openapi.json"' in page
    assert all(url.startswith(("/v1/", "/static/")) for url in _assets(page))
    assert index["docs"] == "/v1/docs"
    assert 'href="/v1/docs"' in home
    assert (await moved.get("/api/docs")).status == 404
