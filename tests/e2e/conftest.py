"""End-to-end fixtures: the real server in its own process, driven by headless Chromium.

The server is ``python -m portal run`` (production mode) on a database of its
own on the session's embedded PostgreSQL. The browser is Debian's chromium
driven by Playwright; when it cannot start, the suite fails under CI
(``CI`` set) and is skipped elsewhere, saying why.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Error, Page, Playwright, sync_playwright

from portal.platform.auth import passwords
from portal.platform.auth.tables import users
from portal.testing import PASSWORD, migrated_database, truncate_all
from tests.servers import Server, free_port, portal_command, running, server_env

E2E_DATABASE = "portal_e2e"
ROOT = Path(__file__).resolve().parents[2]
#: Screenshots for a person to look at; CI keeps the folder with the run's output.
OUTPUT = Path(os.environ.get("PORTAL_TEST_OUTPUT", ROOT / "test-output"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def e2e_database(database_url: str) -> str:
    """A migrated database of the end-to-end suite's own, beside the unit tests' one."""
    return migrated_database(database_url, E2E_DATABASE)


@pytest.fixture(scope="package")
def site(e2e_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``python -m portal run`` on the suite's database: one process for the package.

    Starting a server (and a CLI process for its staff user) per test cost
    several seconds each; the server keeps no state of its own between
    requests, so each test gets it back over an emptied database instead.
    """
    folder = tmp_path_factory.mktemp("site")
    port = free_port()
    env = server_env(e2e_database, folder / "data")
    with running(portal_command(port), port, env, folder / "server.log") as server:
        yield server


@pytest.fixture
def live_server(site: Server, e2e_database: str) -> Server:
    """The site on an empty database with one staff user, ``staff``."""
    truncate_all(e2e_database)
    add_staff_user(e2e_database, "staff")
    return site


def add_staff_user(database_url: str, username: str) -> None:
    """Store a staff user with :data:`PASSWORD`, as ``createsuperuser`` would."""
    insert = users.insert().values(
        username=username, password_hash=passwords.hasher().hash(PASSWORD), is_staff=True
    )
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(insert)
    finally:
        engine.dispose()


# Package scope, not session: Playwright's sync API keeps an event loop
# running while it is started, which would break every async test after it.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Headless Debian chromium; fails under CI when it cannot start."""
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    try:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    except Error as exc:
        message = f"no browser could start ({executable}): {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) and page, 1280x800."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot under the test output folder."""
    path = OUTPUT / "screenshots" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path
