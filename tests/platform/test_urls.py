"""Namespaced URL reversing from Python: ``"app:route"`` names across every mounted app."""

from __future__ import annotations

import dataclasses

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from yarl import URL

from portal.apps import polls
from portal.main import create_app
from portal.platform.appspec import Mounts, mounts_key
from portal.platform.installed import InstalledAppsError
from portal.platform.urls import redirect, static_url, url_for
from portal.settings import Settings
from portal.testing import Client, MakeClient
from tests.conftest import INSTALLED_APPS


@pytest.fixture
def root(settings: Settings) -> web.Application:
    """The whole site as built by the root factory (not started)."""
    return create_app(settings)


@pytest.fixture
def mounts(root: web.Application) -> Mounts:
    return root[mounts_key]


@pytest.fixture
def request_(root: web.Application) -> web.Request:
    """A request to the site, for the helpers that take one."""
    return make_mocked_request("GET", "/", app=root)


def test_root_route_names_are_bare(mounts: Mounts) -> None:
    assert mounts.url("home") == URL("/")
    assert mounts.url("login") == URL("/login")
    assert mounts.url("readyz") == URL("/readyz")


def test_app_route_names_carry_the_app_prefix(mounts: Mounts) -> None:
    assert mounts.url("polls:index") == URL("/polls/")
    assert mounts.url("polls:detail", question_id=7) == URL("/polls/7/")
    assert mounts.url("polls:results", question_id=7) == URL("/polls/7/results")


def test_query_is_appended_and_encoded(mounts: Mounts) -> None:
    url = mounts.url("login", query={"next": "/polls/?a=1&b=2"})

    assert url.path == "/login"
    assert url.query["next"] == "/polls/?a=1&b=2"


def test_url_for_reverses_through_the_request(request_: web.Request) -> None:
    assert url_for(request_, "polls:detail", question_id=3) == URL("/polls/3/")


def test_redirect_is_a_303_to_the_named_route(request_: web.Request) -> None:
    response = redirect(request_, "polls:results", question_id=3)

    assert response.status == 303
    assert response.headers["Location"] == "/polls/3/results"


def test_static_url_of_an_app_file_is_versioned(request_: web.Request) -> None:
    url = static_url(request_, "polls:polls.css")

    assert url.path == "/polls/static/polls.css"
    assert url.query["v"]


def test_static_url_of_a_shared_file_is_versioned(request_: web.Request) -> None:
    url = static_url(request_, "portal.css")

    assert url.path == "/static/portal.css"
    assert url.query["v"]


def test_urls_follow_a_moved_prefix(settings: Settings) -> None:
    moved = create_app(dataclasses.replace(settings, apps={"polls": "/surveys/"}))[mounts_key]

    assert moved.url("polls:detail", question_id=7) == URL("/surveys/7/")
    assert moved.static("polls:polls.css").path == "/surveys/static/polls.css"


def test_unknown_app_is_a_lookup_error_naming_it(mounts: Mounts) -> None:
    with pytest.raises(LookupError, match="no app named 'blog' is mounted"):
        mounts.url("blog:index")


def test_unknown_route_is_a_lookup_error_naming_it(mounts: Mounts) -> None:
    with pytest.raises(LookupError, match="no route named 'polls:nope'"):
        mounts.url("polls:nope")


def test_unknown_root_route_is_a_lookup_error_naming_it(mounts: Mounts) -> None:
    with pytest.raises(LookupError, match="no route named 'nope'"):
        mounts.url("nope")


def test_unknown_static_app_is_a_lookup_error(mounts: Mounts) -> None:
    with pytest.raises(LookupError, match="no app named 'blog' is mounted"):
        mounts.static("blog:blog.css")


def test_missing_url_part_is_an_error(mounts: Mounts) -> None:
    with pytest.raises(KeyError):
        mounts.url("polls:detail")


def test_mounts_list_the_mounted_apps_in_order(mounts: Mounts) -> None:
    mounted = [(m.spec.name, m.prefix) for m in mounts]
    assert mounted == [(spec.name, f"/{spec.name}/") for spec in INSTALLED_APPS]
    # The project's own first, as its INSTALLED_APPS lists them (an app added
    # later comes after).
    assert mounted[:4] == [
        ("polls", "/polls/"),
        ("todos", "/todos/"),
        ("api", "/api/"),
        ("admin", "/admin/"),
    ]
    assert "polls" in mounts
    assert "blog" not in mounts


def test_an_app_cannot_be_mounted_twice(settings: Settings) -> None:
    with pytest.raises(InstalledAppsError, match="two apps are named 'polls'"):
        create_app(settings, apps=[polls.spec, polls.spec])


async def test_home_page_links_each_mounted_app(client: Client) -> None:
    response = await client.get("/")

    body = await response.text()
    assert response.status == 200
    assert '<a href="/polls/">Polls</a>' in body
    assert '<span class="prefix">/polls/</span>' in body


async def test_home_page_follows_a_moved_prefix(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await make_client(dataclasses.replace(settings, apps={"polls": "/surveys/"}))

    body = await (await client.get("/")).text()

    assert '<a href="/surveys/">Polls</a>' in body
    assert 'href="/polls/"' not in body


async def test_versioned_static_url_is_served(client: Client) -> None:
    url = client.app[mounts_key].static("polls:polls.css")

    response = await client.get(url)

    assert response.status == 200
    assert response.content_type == "text/css"


async def test_login_link_carries_the_current_page_as_next(client: Client) -> None:
    body = await (await client.get("/polls/")).text()

    assert 'href="/login?next=/polls/"' in body


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("api:todos.item", {"todo_id": 7}),
        ("api:questions.choice", {"question_id": 3, "choice_id": 12}),
        ("polls:detail", {"question_id": 1}),
        ("api:todos", {}),
        ("polls:static", {"filename": "a b.css"}),
    ],
)
def test_path_is_the_urls_text_on_a_frozen_site(
    root: web.Application, mounts: Mounts, name: str, parts: dict[str, str | int]
) -> None:
    root.freeze()

    assert mounts.path(name, **parts) == str(mounts.url(name, query=None, **parts))
