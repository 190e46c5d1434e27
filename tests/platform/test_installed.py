"""Installed apps come from settings: loaded, placed and checked, each mistake one line."""

from __future__ import annotations

import dataclasses
import importlib
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from aiohttp import web

from portal import apps as project_apps
from portal.platform.appspec import AppSpec
from portal.platform.exceptions import ConfigurationError
from portal.platform.installed import InstalledAppsError, load_apps, mount_prefix
from portal.platform.policy import HTML_SITE
from portal.platform.root import build_site
from portal.settings import Settings, load_settings
from portal.testing import Client, MakeClient, bearer

REPO = Path(__file__).resolve().parents[2]


def _site(settings: Settings) -> web.Application:
    app = web.Application()

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello from jottings_app")

    app.router.add_get("/", hello, name="index")
    return app


JOTTINGS = AppSpec(
    name="jottings_app", title="Jottings", description="Jottings.", factory=_site, policy=HTML_SITE
)


@pytest.fixture
def app_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path where a test writes app packages of its own."""
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [name for name in sys.modules if name.startswith("extra_")]:
        del sys.modules[name]


def _write_app(folder: Path, module: str, body: str) -> None:
    (folder / module).mkdir()
    (folder / module / "__init__.py").write_text(textwrap.dedent(body))


_SPEC = """
    from aiohttp import web
    from portal.platform.policy import HTML_SITE
    from portal.platform.appspec import AppSpec

    async def index(request):
        return web.Response(text="hello from {name}")

    def create_app(settings):
        app = web.Application()
        app.router.add_get("/", index, name="index")
        return app

    spec = AppSpec(name="{name}", title="{name}", description="", factory=create_app,
                   policy=HTML_SITE{extra})
"""


def _installing(*entries: str, apps: Mapping[str, str] | None = None) -> Settings:
    return dataclasses.replace(Settings(), installed_apps=entries, apps=apps or {})


def test_without_the_setting_the_projects_list_is_installed_in_order() -> None:
    specs = load_apps(Settings())

    assert list(specs) == [
        importlib.import_module(entry).spec for entry in project_apps.INSTALLED_APPS
    ]


def test_each_app_is_mounted_at_its_own_name_unless_moved() -> None:
    settings = Settings(apps={"polls": "/surveys/"})

    prefixes = {spec.name: mount_prefix(spec, settings) for spec in load_apps(settings)}

    assert prefixes == {
        spec.name: "/surveys/" if spec.name == "polls" else f"/{spec.name}/"
        for spec in load_apps(Settings())
    }


def test_the_environment_lists_the_apps_comma_separated(app_package: Path) -> None:
    _write_app(app_package, "extra_jottings_app", _SPEC.format(name="jottings_app", extra=""))
    settings = load_settings(
        environ={"PORTAL_INSTALLED_APPS": "portal.apps.polls, extra_jottings_app"},
        require_secret=False,
    )

    assert [spec.name for spec in load_apps(settings)] == ["polls", "jottings_app"]


async def test_a_new_app_is_mounted_linked_and_movable(
    app_package: Path, make_client: MakeClient, settings: Settings
) -> None:
    _write_app(app_package, "extra_jottings_app", _SPEC.format(name="jottings_app", extra=""))
    entries = (*project_apps.INSTALLED_APPS, "extra_jottings_app")
    client: Client = await make_client(
        dataclasses.replace(settings, installed_apps=entries, apps={"jottings_app": "/jottings/"}),
        apps=None,
    )

    page = await client.get("/jottings/")
    home = await (await client.get("/")).text()

    assert await page.text() == "hello from jottings_app"
    assert 'href="/jottings/"' in home


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (("portal.apps.nope",), "installed_apps: 'portal.apps.nope': no module 'portal.apps.nope'"),
        (("portal.apps.polls", "portal.apps.polls"), "two apps are named 'polls'"),
        (("portal.settings",), "'portal.settings' has no `spec`"),
        (("not a module",), "is neither a dotted module path nor an entry point name"),
    ],
)
def test_a_bad_entry_is_refused_naming_it(entries: tuple[str, ...], message: str) -> None:
    with pytest.raises(InstalledAppsError, match=message.replace("(", r"\(")):
        load_apps(_installing(*entries))


# The API serves what the installed apps declare (AppSpec.api), nothing else

_API_APP = """
    from aiohttp import web
    from pydantic import BaseModel
    from portal.appkit import HTML_SITE, AppSpec, Call, Endpoint, json_response

    class NoteOut(BaseModel):
        text: str
        url: str

    async def index(request):
        return web.Response(text="hello from {name}")

    async def {handler}(call: Call) -> web.Response:
        return json_response(NoteOut(text="a note", url=call.url("{route}")))

    def create_app(settings):
        app = web.Application()
        app.router.add_get("/", index, name="index")
        return app

    spec = AppSpec(
        name="{name}", title="{name}", description="", factory=create_app, policy=HTML_SITE,
        api=(Endpoint("GET", "{path}", "{route}", {handler}, "List notes", "{name}",
                      response=NoteOut),),
    )
"""


def _write_api_app(
    folder: Path,
    module: str,
    *,
    name: str = "notes",
    path: str = "/notes/",
    route: str = "notes",
    handler: str = "list_notes",
) -> None:
    body = _API_APP.format(name=name, path=path, route=route, handler=handler)
    _write_app(folder, module, body)


async def _operations(client: Client, prefix: str = "/api/") -> set[tuple[str, str]]:
    response = await client.get(f"{prefix}openapi.json")
    assert response.status == 200
    document = await response.json()
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item}


async def test_api_with_only_todos_serves_and_documents_only_todos(
    make_client: MakeClient, settings: Settings, api_token: str
) -> None:
    # The api app first: it needs no app installed before it.
    entries = ("portal.apps.api", "portal.apps.todos")
    client = await make_client(dataclasses.replace(settings, installed_apps=entries), apps=None)

    index = await client.get("/api/")
    operations = await _operations(client)
    created = await client.post("/api/todos/", json={"name": "Tea"}, headers=bearer(api_token))

    assert await index.json() == {
        "todos": "/api/todos/",
        "openapi": "/api/openapi.json",
        "docs": "/api/docs",
        "problems": "/api/problems/",
    }
    assert {path for _, path in operations} == {
        "/api/",
        "/api/openapi.json",
        "/api/problems/",
        "/api/problems/{kind}",
        "/api/todos/",
        "/api/todos/{todo_id}",
    }
    assert created.status == 201
    for path in ("/api/questions/", "/api/questions/1", "/api/questions/1/choices/"):
        missing = await client.get(path)
        assert missing.status == 404, path
        assert missing.content_type == "application/problem+json"


async def test_api_index_schema_documents_exactly_the_installed_lists(
    make_client: MakeClient, settings: Settings
) -> None:
    entries = ("portal.apps.todos", "portal.apps.api")
    client = await make_client(dataclasses.replace(settings, installed_apps=entries), apps=None)

    document = await (await client.get("/api/openapi.json")).json()

    schema = document["components"]["schemas"]["ApiIndex"]
    assert schema["required"] == ["todos", "openapi", "docs", "problems"]
    assert set(schema["properties"]) == {"todos", "openapi", "docs", "problems"}
    assert not any(
        name.startswith(("Question", "Choice", "Vote"))
        for name in document["components"]["schemas"]
    )


async def test_polls_and_todos_without_the_api_serve_their_pages_and_no_api(
    make_client: MakeClient, settings: Settings
) -> None:
    entries = ("portal.apps.polls", "portal.apps.todos")
    client = await make_client(dataclasses.replace(settings, installed_apps=entries), apps=None)

    home = await (await client.get("/")).text()

    assert (await client.get("/polls/")).status == 200
    assert (await client.get("/todos/")).status == 200
    assert 'href="/api/"' not in home
    for path in ("/api/", "/api/todos/", "/api/openapi.json"):
        assert (await client.get(path)).status == 404, path


async def test_an_apps_own_api_endpoints_are_served_indexed_and_documented(
    app_package: Path, make_client: MakeClient, settings: Settings
) -> None:
    _write_api_app(app_package, "extra_notes")
    entries = ("portal.apps.todos", "extra_notes", "portal.apps.api")
    client = await make_client(
        dataclasses.replace(settings, installed_apps=entries, apps={"api": "/v2/"}), apps=None
    )

    index = await (await client.get("/v2/")).json()
    notes = await client.get("/v2/notes/")
    operations = await _operations(client, "/v2/")

    assert index == {
        "todos": "/v2/todos/",
        "notes": "/v2/notes/",
        "openapi": "/v2/openapi.json",
        "docs": "/v2/docs",
        "problems": "/v2/problems/",
    }
    assert notes.status == 200
    assert await notes.json() == {"text": "a note", "url": "/v2/notes/"}
    assert ("GET", "/v2/notes/") in operations
    assert (await client.get("/notes/")).status == 200  # its pages stay its own


@pytest.mark.parametrize(
    ("clash", "message"),
    [
        ({"path": "/todos/", "route": "notes"}, "API operation GET /todos/ is declared twice"),
        ({"route": "todos.item"}, "API route name 'todos.item' is given to two paths"),
        ({"route": "openapi", "path": "/openapi.json"}, "API operation GET /openapi.json"),
        ({"handler": "list_todos"}, "API operation id 'list_todos' (the handler's name)"),
    ],
)
def test_two_apps_declaring_one_api_operation_stop_start_up(
    app_package: Path, settings: Settings, clash: dict[str, str], message: str
) -> None:
    _write_api_app(app_package, "extra_notes", **clash)
    entries = ("portal.apps.todos", "extra_notes", "portal.apps.api")

    with pytest.raises(ConfigurationError, match=re.escape(message)):
        build_site(dataclasses.replace(settings, installed_apps=entries), None)


def test_a_module_that_fails_to_import_is_named(app_package: Path) -> None:
    _write_app(app_package, "extra_broken", "raise RuntimeError('half-written')\n")

    with pytest.raises(InstalledAppsError, match="'extra_broken' does not import: RuntimeError"):
        load_apps(_installing("extra_broken"))


def test_an_app_name_that_is_not_a_lowercase_identifier_is_refused(app_package: Path) -> None:
    _write_app(app_package, "extra_bad", _SPEC.format(name="My-Jottings", extra=""))

    with pytest.raises(InstalledAppsError, match="'My-Jottings' is not a lowercase identifier"):
        load_apps(_installing("extra_bad"))


@pytest.mark.parametrize("prefix", ["/login/", "/static/", "/healthz/", "/_debugtoolbar/"])
def test_a_prefix_over_a_root_route_is_refused(app_package: Path, prefix: str) -> None:
    _write_app(app_package, "extra_jottings_app", _SPEC.format(name="jottings_app", extra=""))
    settings = _installing("extra_jottings_app", apps={"jottings_app": prefix})

    with pytest.raises(InstalledAppsError, match=f"would hide the site's own '{prefix[:-1]}"):
        load_apps(settings)


def test_two_apps_at_one_prefix_are_refused(app_package: Path) -> None:
    _write_app(app_package, "extra_jottings_app", _SPEC.format(name="jottings_app", extra=""))
    settings = _installing(
        "portal.apps.polls", "extra_jottings_app", apps={"jottings_app": "/polls/"}
    )

    with pytest.raises(InstalledAppsError, match="'polls' and 'jottings_app' are both mounted"):
        load_apps(settings)


def test_moving_an_app_that_is_not_installed_is_refused() -> None:
    settings = _installing("portal.apps.polls", apps={"blog": "/blog/"})

    with pytest.raises(InstalledAppsError, match="'blog' is not an installed app"):
        load_apps(settings)


def test_an_entry_point_installs_an_app_shipped_by_a_package(app_package: Path) -> None:
    _write_app(app_package, "extra_shipped", _SPEC.format(name="shipped", extra=""))
    dist = app_package / "extra_shipped-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: extra-shipped\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[portal.apps]\nshipped = extra_shipped\n")

    (spec,) = load_apps(_installing("shipped"))

    assert spec.name == "shipped"


def test_a_command_with_a_bad_entry_says_one_line_and_exits_1(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "portal", "check"],
        cwd=REPO,
        env={
            "PATH": "/usr/bin:/bin",
            "PORTAL_INSTALLED_APPS": "portal.apps.polls,portal.apps.nope",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: installed_apps: 'portal.apps.nope': no module 'portal.apps.nope' (and no entry "
        "point 'portal.apps.nope' in the group 'portal.apps'); check the spelling, or pip "
        "install the app"
    ]


def test_the_platform_never_imports_portal_main() -> None:
    imports_main = re.compile(r"^\s*(from portal\.main import|import portal\.main)", re.M)
    importing = [
        str(path.relative_to(REPO))
        for path in (REPO / "portal" / "platform").rglob("*.py")
        if imports_main.search(path.read_text(encoding="utf-8"))
    ]

    assert importing == []


def test_no_platform_module_names_an_installed_app_in_its_code() -> None:
    names = {spec.name for spec in load_apps(Settings())} - {"admin", "api"}
    offenders = []
    for path in [REPO / "portal" / "main.py", REPO / "portal" / "settings.py"]:
        code = path.read_text(encoding="utf-8")
        offenders += [f"{path.name}: {name}" for name in names if f'"{name}"' in code]

    assert offenders == []


def test_a_spec_can_ask_for_its_own_default_prefix() -> None:
    spec = dataclasses.replace(JOTTINGS, prefix="/n/")

    assert mount_prefix(spec, Settings()) == "/n/"
    assert mount_prefix(JOTTINGS, Settings()) == "/jottings_app/"
