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
from portal.platform.installed import InstalledAppsError, load_apps, mount_prefix
from portal.platform.policy import HTML_SITE
from portal.settings import Settings, load_settings
from portal.testing import Client, MakeClient

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
        (("portal.apps.api",), "'api' needs the app 'polls', which is not installed"),
        (("portal.settings",), "'portal.settings' has no `spec`"),
        (("not a module",), "is neither a dotted module path nor an entry point name"),
    ],
)
def test_a_bad_entry_is_refused_naming_it(entries: tuple[str, ...], message: str) -> None:
    with pytest.raises(InstalledAppsError, match=message.replace("(", r"\(")):
        load_apps(_installing(*entries))


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
