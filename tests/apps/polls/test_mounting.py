"""The polls app wherever the settings mount it: prefixes, links, redirects, factories."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp import web
from pytest_aiohttp import AiohttpClient
from yarl import URL

from portal.apps import polls
from portal.apps.polls import queries
from portal.main import create_app
from portal.platform.appspec import mounts_key
from portal.platform.urls import url_for
from portal.settings import Settings
from portal.testing import Client, MakeClient, csrf_token

_LINK = re.compile(r'(?:href|action|src)="([^"]*)"')
#: The old prefix as a path segment (``/polls.css`` is a file name, not the prefix).
_OLD_PREFIX = re.compile(r"/polls(?:/|$|\?)")


@pytest.fixture
def surveys(settings: Settings) -> Settings:
    """The test settings with polls moved from ``/polls/`` to ``/surveys/``."""
    return settings.with_overrides(apps={"polls": "/surveys/"})


@pytest.fixture
async def surveys_client(make_client: MakeClient, surveys: Settings) -> Client:
    return await make_client(surveys)


async def _links(client: Client, path: str) -> list[str]:
    response = await client.get(path)
    assert response.status == 200, path
    return _LINK.findall(await response.text())


async def _question(conn: Any) -> tuple[int, int]:
    created = await queries.create_question(conn, "Moved?", ["Yes", "No"])
    first, _ = await queries.get_choices(conn, created.id)
    return created.id, first.id


async def test_moved_prefix_serves_the_index(surveys_client: Client) -> None:
    response = await surveys_client.get("/surveys/")

    assert response.status == 200
    assert "No polls are available." in await response.text()


async def test_moved_prefix_leaves_the_old_prefix_404(surveys_client: Client) -> None:
    response = await surveys_client.get("/polls/")

    assert response.status == 404


@pytest.mark.parametrize("page", ["/surveys/", "/surveys/{id}/", "/surveys/{id}/results", "/"])
async def test_moved_prefix_links_on_each_page_point_under_it(
    surveys_client: Client, conn: Any, page: str
) -> None:
    question_id, _ = await _question(conn)

    links = await _links(surveys_client, page.format(id=question_id))

    assert "/surveys/" in links  # the navigation's link to the polls index
    assert [link for link in links if _OLD_PREFIX.search(link)] == []


async def test_moved_prefix_pages_link_their_own_routes_under_it(
    surveys_client: Client, conn: Any
) -> None:
    question_id, _ = await _question(conn)

    index = await _links(surveys_client, "/surveys/")
    detail = await _links(surveys_client, f"/surveys/{question_id}/")
    results = await _links(surveys_client, f"/surveys/{question_id}/results")

    assert f"/surveys/{question_id}/" in index
    assert f"/surveys/{question_id}/vote" in detail
    assert f"/surveys/{question_id}/results" in detail
    assert f"/surveys/{question_id}/" in results
    assert any(link.startswith("/surveys/static/polls.css?v=") for link in results)


async def test_moved_prefix_serves_the_static_stylesheet(surveys_client: Client) -> None:
    response = await surveys_client.get("/surveys/static/polls.css")

    assert response.status == 200
    assert response.content_type == "text/css"


async def test_moved_prefix_vote_redirects_under_it(surveys_client: Client, conn: Any) -> None:
    question_id, choice_id = await _question(conn)
    token = await csrf_token(surveys_client, f"/surveys/{question_id}/")

    response = await surveys_client.post(
        f"/surveys/{question_id}/vote",
        data={"choice": str(choice_id), "csrf_token": token},
        allow_redirects=False,
    )

    assert response.status == 303
    assert response.headers["Location"] == f"/surveys/{question_id}/results"


async def test_polls_works_as_the_only_mounted_app(
    make_client: MakeClient, settings: Settings, conn: Any
) -> None:
    question_id, _ = await _question(conn)
    client = await make_client(settings, apps=[polls.spec])

    home = await (await client.get("/")).text()
    detail = await client.get(f"/polls/{question_id}/")

    assert '<a href="/polls/">Polls</a>' in home
    assert polls.spec.description in home
    assert detail.status == 200


def test_polls_factory_returns_a_fresh_unfrozen_app_each_call(settings: Settings) -> None:
    first = polls.create_app(settings)
    second = polls.create_app(settings)

    assert isinstance(first, web.Application)
    assert first is not second
    assert first.router is not second.router
    assert not first.frozen
    assert not second.frozen


async def test_two_sites_built_by_the_root_factory_serve_side_by_side(
    make_client: MakeClient,
) -> None:
    one = await make_client()
    two = await make_client()

    assert (await one.get("/polls/")).status == 200
    assert (await two.get("/polls/")).status == 200


def test_mounts_reverse_polls_route_names_to_the_moved_prefix(surveys: Settings) -> None:
    mounts = create_app(surveys)[mounts_key]

    assert mounts.url("polls:index") == URL("/surveys/")
    assert mounts.url("polls:detail", question_id=1) == URL("/surveys/1/")
    assert mounts.url("polls:vote", question_id=1) == URL("/surveys/1/vote")
    assert mounts.url("polls:results", question_id=1) == URL("/surveys/1/results")
    assert str(mounts.static("polls:polls.css")).startswith("/surveys/static/polls.css")


def test_mounts_refuse_an_unknown_polls_route_name(settings: Settings) -> None:
    mounts = create_app(settings)[mounts_key]

    with pytest.raises(LookupError, match="polls:nope"):
        mounts.url("polls:nope")


async def test_url_for_reverses_polls_names_from_a_root_view(
    aiohttp_client: AiohttpClient, surveys: Settings
) -> None:
    async def probe(request: web.Request) -> web.Response:
        return web.Response(text=str(url_for(request, "polls:detail", question_id=1)))

    root = create_app(surveys)
    root.router.add_get("/_probe", probe)
    client = await aiohttp_client(root)

    response = await client.get("/_probe")

    assert await response.text() == "/surveys/1/"
