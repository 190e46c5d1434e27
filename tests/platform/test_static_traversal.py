"""``..`` out of a static folder, however it is spelled, serves nothing and reveals nothing.

Every static route of the real site (the root's ``/static/`` and each app's)
is tried with ``../`` written plainly, percent-encoded, with backslashes and
double-encoded, towards files that exist outside the folder
(``../__init__.py``, the repository's ``pyproject.toml``) and towards names
of the same length that do not: both must get the same answer. A file
missing from any static folder is the site's own HTML 404 page, debug on or
off, never an empty download.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.web_urldispatcher import PrefixedSubAppResource, StaticResource
from yarl import URL

from portal.main import create_app
from portal.platform.api.problems import PROBLEM_TYPE
from portal.platform.auth.users import User
from portal.settings import Settings
from portal.testing import TEST_SECRET, Client, MakeClient, log_in

ROOT = Path(__file__).resolve().parents[2]


def static_folders() -> list[tuple[str, Path]]:
    """``(URL prefix, folder)`` of every static route of the site as ``create_app`` builds it."""
    # Built only to be looked at: nothing connects to this database.
    settings = Settings(
        database_url="postgresql://unused/unused", data_dir=ROOT / ".data", secret_key=TEST_SECRET
    )
    found: list[tuple[str, Path]] = []

    def walk(resources: object) -> None:
        for resource in resources:  # type: ignore[attr-defined]
            if isinstance(resource, PrefixedSubAppResource):
                walk(resource._app.router.resources())
            elif isinstance(resource, StaticResource):
                found.append((resource.canonical + "/", Path(resource.get_info()["directory"])))

    walk(create_app(settings).router.resources())
    return found


STATIC = static_folders()

#: How ``../`` may be written in a URL path: plainly, percent-encoded in parts
#: or whole (either case), with backslashes (raw or encoded), half-encoded,
#: double-encoded, and as overlong UTF-8.
SPELLINGS = {
    "plain": "../",
    "encoded-dots": "%2e%2e/",
    "encoded-slash": "..%2f",
    "encoded-all": "%2e%2e%2f",
    "encoded-upper": "%2E%2E%2F",
    "half-encoded": ".%2e/",
    "backslash": "..\\",
    "encoded-backslash": "..%5c",
    "encoded-all-backslash": "%2e%2e%5c",
    "double-encoded": "%252e%252e%252f",
    "overlong-utf8": "%c0%ae%c0%ae%c0%af",
}

#: Files outside the static folders, each with a name of the same length that does not exist.
EXISTING_AND_MISSING = {
    "init": ("__init__.py", "__nope__.py"),
    "pyproject": ("pyproject.toml", "pyprojekt.toml"),
}


def target(folder: Path, name: str) -> Path:
    """The file *name* names: in the package holding the folder (its nearest
    ancestor with an ``__init__.py``), or at the repository's root."""
    if not name.endswith(".py"):
        return ROOT / name
    package = next(parent for parent in folder.parents if (parent / "__init__.py").is_file())
    return package / name


def traversal(prefix: str, folder: Path, name: str, spelling: str) -> str:
    """The raw path from *prefix* up and out of *folder* to *name*'s target."""
    up = len(Path(os.path.relpath(target(folder, name), folder)).parts) - 1
    return prefix + spelling * up + name


async def get_raw(client: Client, path: str) -> ClientResponse:
    """GET *path* exactly as written: no client-side normalisation of ``..`` or escapes."""
    base = str(client.make_url("/")).rstrip("/")
    return await client.session.get(URL(base + path, encoded=True), allow_redirects=False)


def static_ids() -> list[str]:
    return [prefix for prefix, _ in STATIC]


def test_the_site_has_the_static_routes_this_file_expects() -> None:
    # The root's and each app's: a new one is covered automatically.
    assert {prefix for prefix, _ in STATIC} >= {
        "/static/",
        "/polls/static/",
        "/todos/static/",
        "/admin/static/",
    }


@pytest.mark.parametrize("which", EXISTING_AND_MISSING)
@pytest.mark.parametrize(("prefix", "folder"), STATIC, ids=static_ids())
def test_the_targets_are_what_their_names_say(which: str, prefix: str, folder: Path) -> None:
    existing, missing = EXISTING_AND_MISSING[which]

    assert target(folder, existing).is_file()
    assert not target(folder, missing).exists()


async def answer(response: ClientResponse, *, named: str = "", as_: str = "") -> tuple[Any, ...]:
    """What a client learns from *response*: status, type, body and redirect target.

    The path is echoed (in the login link's ``next``): *named* is written *as_*
    another name, so that two answers about two names compare alike.
    """
    body = await response.text()
    location = response.headers.get("Location", "")
    if named:
        body, location = body.replace(named, as_), location.replace(named, as_)
    return (response.status, response.content_type, body, location)


@pytest.mark.parametrize("which", EXISTING_AND_MISSING)
@pytest.mark.parametrize(("prefix", "folder"), STATIC, ids=static_ids())
async def test_a_traversal_answers_alike_whether_its_target_exists(
    client: Client, prefix: str, folder: Path, which: str
) -> None:
    existing, missing = EXISTING_AND_MISSING[which]
    first_line = target(folder, existing).read_text().splitlines()[0]
    wrong = []
    for spelling, up in SPELLINGS.items():
        there = await answer(await get_raw(client, traversal(prefix, folder, existing, up)))
        absent = await answer(
            await get_raw(client, traversal(prefix, folder, missing, up)),
            named=missing,
            as_=existing,
        )
        status, _, body, _ = there
        if there != absent or status not in (303, 404) or first_line in body:
            wrong.append((spelling, there[:2], absent[:2]))

    assert not wrong


@pytest.mark.parametrize(("prefix", "folder"), STATIC, ids=static_ids())
async def test_a_traversal_is_a_404_for_staff(
    client: Client, staff_user: User, prefix: str, folder: Path
) -> None:
    # Anonymous, a ``..`` that lands in the admin is sent to log in like any
    # admin URL; staff see what the path really is.
    await log_in(client, staff_user.username)
    wrong = []
    for spelling, up in SPELLINGS.items():
        for name in EXISTING_AND_MISSING["init"]:
            response = await get_raw(client, traversal(prefix, folder, name, up))
            if response.status != 404:
                wrong.append((spelling, name, response.status))

    assert not wrong


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
@pytest.mark.parametrize(("prefix", "folder"), STATIC, ids=static_ids())
async def test_a_missing_static_file_is_the_sites_404_page(
    make_client: MakeClient, settings: Settings, prefix: str, folder: Path, debug: bool
) -> None:
    client = await make_client(dataclasses.replace(settings, debug=debug))
    # Under the API every answer is JSON, errors included (its docs' assets too).
    api = prefix.startswith("/api/")
    expected = (404, PROBLEM_TYPE if api else "text/html")
    wrong = []
    for method in ("GET", "HEAD"):
        for name in ("no-such-file.css", "nested/no-such-file.js"):
            response = await client.request(method, prefix + name, allow_redirects=False)
            if (response.status, response.content_type) != expected:
                wrong.append((method, name, response.status, response.content_type))
            elif method == "GET" and not api:
                assert '<nav class="site-nav"' in await response.text()

    assert not wrong


def first_file(prefix: str, folder: Path) -> tuple[str, bytes]:
    """The URL of a file the static route serves, and what it holds."""
    path = next(path for path in sorted(folder.rglob("*")) if path.is_file())
    return prefix + path.relative_to(folder).as_posix(), path.read_bytes()


@pytest.mark.parametrize(
    ("url", "content"), [first_file(*static) for static in STATIC], ids=static_ids()
)
async def test_an_existing_static_file_is_still_served(
    client: Client, url: str, content: bytes
) -> None:
    response = await client.get(url)

    assert response.status == 200
    assert await response.read() == content
