"""Every route of the real site is classified here, and each non-public one refuses outsiders.

The inventory walks the root and every mounted sub-app of the app built by
``create_app``. Each route (method and ``app:name``) must be in exactly one of
:data:`PUBLIC`, :data:`LOGGED_IN` or :data:`STAFF`: a route added later fails
:func:`test_every_route_is_classified` until someone decides who may use it.
Anything not public must refuse an anonymous caller (the login redirect in
HTML sections, 401 in the API); staff routes must also refuse a logged-in
user who is not staff (403).
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.web_urldispatcher import AbstractResource, PrefixedSubAppResource
from yarl import URL

from portal.apps.polls.queries import create_question, get_choices
from portal.apps.todos.queries import create_todo
from portal.main import create_app
from portal.platform.api.endpoints import READ_METHODS
from portal.platform.api.problems import PROBLEM_TYPE
from portal.platform.appspec import mounts_key
from portal.platform.auth.tokens import create_token
from portal.platform.auth.users import User
from portal.platform.policy import Policy, policy_key
from portal.settings import Settings
from portal.testing import Client, csrf_token, log_in
from tests.conftest import INSTALLED_APPS


def _read(name: str) -> set[tuple[str, str]]:
    """A page's GET and the HEAD aiohttp adds beside it."""
    return {("GET", name), ("HEAD", name)}


#: Open to anyone, logged in or not.
PUBLIC: frozenset[tuple[str, str]] = frozenset(
    {
        *_read("home"),
        *_read("login"),
        ("POST", "login_submit"),
        ("POST", "logout"),
        *_read("healthz"),
        *_read("readyz"),
        *_read("static"),
        *_read("favicon"),
        # The public reads the polls and votes on them.
        *_read("polls:index"),
        *_read("polls:detail"),
        ("POST", "polls:vote"),
        *_read("polls:results"),
        *_read("polls:live"),
        *_read("polls:static"),
        # Everyone sees the todo list; changing it needs a login.
        *_read("todos:index"),
        *_read("todos:live"),
        *_read("todos:static"),
        # API reads are open; writes need a token.
        ("GET", "api:index"),
        ("GET", "api:openapi"),
        ("GET", "api:todos"),
        ("GET", "api:todos.item"),
        ("GET", "api:questions"),
        ("GET", "api:questions.item"),
        ("GET", "api:questions.choices"),
        ("GET", "api:questions.choice"),
        # The API's pages for people: its docs (and Swagger UI's files), and what
        # each problem kind means.
        *_read("api:docs"),
        *_read("api:swagger_ui"),
        *_read("api:static"),
        ("GET", "api:problems"),
        ("GET", "api:problems.item"),
        # The admin's stylesheet is neither private nor worth a login.
        *_read("admin:static"),
    }
)

#: For any logged-in user (an API token of any active user).
LOGGED_IN: frozenset[tuple[str, str]] = frozenset(
    {
        ("POST", "todos:add"),
        ("POST", "todos:toggle"),
        ("POST", "todos:delete"),
        ("POST", "api:todos"),
        ("PATCH", "api:todos.item"),
        ("DELETE", "api:todos.item"),
        ("POST", "api:questions.vote"),
    }
)

#: For staff only.
STAFF: frozenset[tuple[str, str]] = frozenset(
    {
        ("POST", "api:questions"),
        ("PATCH", "api:questions.item"),
        ("DELETE", "api:questions.item"),
        ("POST", "api:questions.choices"),
        *_read("admin:index"),
        *_read("admin:list"),
        *_read("admin:bulk"),
        ("POST", "admin:bulk_apply"),
        *_read("admin:add"),
        ("POST", "admin:add_submit"),
        *_read("admin:change"),
        ("POST", "admin:change_submit"),
        *_read("admin:delete"),
        ("POST", "admin:delete_submit"),
        *_read("admin:history"),
    }
)


def _declared_by_apps() -> dict[str, frozenset[tuple[str, str]]]:
    """What the other installed apps' tests declare (``ROUTES`` in tests/apps/<name>/).

    ``startapp`` writes that declaration for a new app; the apps above are
    classified here, where the inventory began.
    """
    found: dict[str, set[tuple[str, str]]] = {"public": set(), "logged_in": set(), "staff": set()}
    for spec in INSTALLED_APPS:
        try:
            module = importlib.import_module(f"tests.apps.{spec.name}")
        except ModuleNotFoundError:
            continue
        for key, access in getattr(module, "ROUTES", {}).items():
            found[access].add(key)
    return {access: frozenset(keys) for access, keys in found.items()}


_DECLARED = _declared_by_apps()
PUBLIC |= _DECLARED["public"]
LOGGED_IN |= _DECLARED["logged_in"]
STAFF |= _DECLARED["staff"]


@dataclass(frozen=True, slots=True)
class Route:
    """One route as the inventory sees it."""

    method: str
    #: ``app:name`` for a sub-app's route, the bare name for the root's own.
    name: str
    resource: AbstractResource
    #: The policy of the section it belongs to (HTML site or JSON API).
    policy: Policy

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.name)


def inventory(root: web.Application) -> list[Route]:
    """Every route of *root* and of each sub-app mounted on it, however deep."""
    names = {id(mounted.app): mounted.spec.name for mounted in root[mounts_key]}

    def walk(app: web.Application, prefix: str, policy: Policy) -> Iterator[Route]:
        policy = app.get(policy_key, policy)
        for resource in app.router.resources():
            if isinstance(resource, PrefixedSubAppResource):
                child = resource._app
                # A sub-app mounted some other way than through Mounts is named
                # by its prefix, which no classification lists.
                yield from walk(child, f"{names.get(id(child), resource.canonical)}:", policy)
                continue
            for route in resource:
                yield Route(route.method, f"{prefix}{resource.name}", resource, policy)

    return list(walk(root, "", root[policy_key]))


@pytest.fixture
def root(settings: Settings) -> web.Application:
    """The real site as ``create_app`` builds it with the test settings (not started)."""
    return create_app(settings)


def test_the_classification_lists_do_not_overlap() -> None:
    assert not PUBLIC & LOGGED_IN
    assert not PUBLIC & STAFF
    assert not LOGGED_IN & STAFF


def test_every_route_is_classified(root: web.Application) -> None:
    found = {route.key for route in inventory(root)}

    unclassified = found - (PUBLIC | LOGGED_IN | STAFF)

    assert not unclassified, (
        f"classify these routes in {__name__} (PUBLIC, LOGGED_IN or STAFF): {sorted(unclassified)}"
    )


def test_every_classified_route_exists(root: web.Application) -> None:
    found = {route.key for route in inventory(root)}

    assert not (PUBLIC | LOGGED_IN | STAFF) - found, "stale entries: remove or rename them"


# Requests to each guarded route


@dataclass(frozen=True, slots=True)
class Rows:
    """Real rows for the URLs' parts, so a refusal is not just a 404."""

    question_id: int
    choice_id: int
    todo_id: int
    #: The other installed apps' parts, from their tests' ``sample_ids``.
    apps: Mapping[str, str] = field(default_factory=dict)


#: Makes rows for an app's id parts: ``sample_ids(conn) -> {"entry_id": "1", …}``.
SampleIds = Callable[[Any], Awaitable[dict[str, str]]]


def _apps_sample_ids() -> list[SampleIds]:
    """What the other installed apps' tests give (``sample_ids`` in tests/apps/<name>/)
    for the id parts of their own routes, as ``ROUTES`` classifies their routes."""
    hooks = []
    for spec in INSTALLED_APPS:
        try:
            module = importlib.import_module(f"tests.apps.{spec.name}")
        except ModuleNotFoundError:
            continue
        hook = getattr(module, "sample_ids", None)
        if hook is not None:
            hooks.append(hook)
    return hooks


async def apps_sample_ids(conn: Any) -> dict[str, str]:
    """New rows of the other installed apps, by the path part that names each."""
    parts: dict[str, str] = {}
    for hook in _apps_sample_ids():
        parts.update(await hook(conn))
    return parts


@pytest.fixture
async def rows(conn: Any) -> Rows:
    question = await create_question(conn, "Who may ask?", ["Anyone"])
    (choice,) = await get_choices(conn, question.id)
    todo = await create_todo(conn, "Classify every route")
    return Rows(question.id, choice.id, todo.id, await apps_sample_ids(conn))


def url_of(route: Route, rows: Rows) -> URL:
    """The route's URL with each dynamic part filled from *rows*."""
    samples: dict[str, str] = {
        "question_id": str(rows.question_id),
        "choice_id": str(rows.choice_id),
        "todo_id": str(rows.todo_id),
        # The admin's URLs: the todo table and its real row.
        "app": "todos",
        "table": "todo",
        "row_id": str(rows.todo_id),
        # The API's problem kinds.
        "kind": "not-found",
        **rows.apps,
    }
    info = route.resource.get_info()
    formatter = info.get("formatter") or info.get("path")
    assert isinstance(formatter, str), f"{route.name}: no URL pattern to fill in ({info})"
    parts = [part.strip("{}").split(":")[0] for part in formatter.split("/") if "{" in part]
    missing = [part for part in parts if part not in samples]
    assert not missing, f"{route.name}: give url_of a sample value for {missing}"
    return route.resource.url_for(**{part: samples[part] for part in parts})


def guarded(root: web.Application, wanted: frozenset[tuple[str, str]]) -> list[Route]:
    return [route for route in inventory(root) if route.key in wanted]


async def request(client: Client, route: Route, url: URL, *, token: str | None) -> Any:
    """Call *route* as the client's session; with the CSRF token (HTML) or *token* (API)."""
    headers = {}
    if route.policy.auth == "bearer":
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
    elif route.method not in ("GET", "HEAD"):
        # With the token, so the refusal seen is the guard's and not the CSRF check's.
        headers["X-CSRF-Token"] = await csrf_token(client)
    return await client.request(route.method, url, headers=headers, allow_redirects=False)


async def test_non_public_routes_refuse_anonymous_callers(client: Client, rows: Rows) -> None:
    root = client.app
    routes = guarded(root, LOGGED_IN | STAFF)
    assert routes
    wrong = []
    for route in routes:
        url = url_of(route, rows)
        response = await request(client, route, url, token=None)
        if route.policy.auth == "bearer":
            refused = response.status == 401 and response.content_type == PROBLEM_TYPE
        else:
            location = URL(response.headers.get("Location", ""))
            refused = response.status == 303 and location.path == "/login"
        if not refused:
            wrong.append((route.method, route.name, str(url), response.status))

    assert not wrong, f"open to anonymous callers: {wrong}"


async def test_staff_routes_refuse_a_logged_in_user_who_is_not_staff(
    client: Client, rows: Rows, user: User, conn: Any
) -> None:
    root = client.app
    assert (await log_in(client, user.username)).status == 303
    _, token = await create_token(conn, user.id, "inventory")
    routes = guarded(root, STAFF)
    assert routes
    wrong = []
    for route in routes:
        url = url_of(route, rows)
        response = await request(client, route, url, token=token)
        if response.status != 403:
            wrong.append((route.method, route.name, str(url), response.status))

    assert not wrong, f"open to a user who is not staff: {wrong}"


async def test_a_read_token_reads_every_api_route_and_writes_none(
    client: Client, rows: Rows, staff_user: User, conn: Any
) -> None:
    # A staff user's token, so no refusal seen is the staff guard's: only the scope's.
    _, token = await create_token(conn, staff_user.id, "inventory", scope="read")
    # Static files are no operation (and a URL of theirs names a file, not an id).
    routes = [
        route
        for route in inventory(client.app)
        if route.policy.auth == "bearer" and not isinstance(route.resource, web.StaticResource)
    ]
    writes = [route for route in routes if route.method not in READ_METHODS]
    reads = [route for route in routes if route.method in READ_METHODS]
    assert writes
    assert reads
    wrong = []
    # The writes first: were one let through (a DELETE), the reads after it could 404.
    for route in writes:
        response = await request(client, route, url_of(route, rows), token=token)
        problem = await response.json() if response.content_type == PROBLEM_TYPE else {}
        if response.status != 403 or "write scope" not in problem.get("detail", ""):
            wrong.append((route.method, route.name, response.status))
    for route in reads:
        response = await request(client, route, url_of(route, rows), token=token)
        if not (200 <= response.status < 300 or response.status == 404):
            wrong.append((route.method, route.name, response.status))

    assert not wrong, f"a read token was answered wrongly: {wrong}"
