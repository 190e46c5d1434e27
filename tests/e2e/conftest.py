"""End-to-end fixtures: the real server in its own process, driven by headless Chromium.

The server is ``python -m portal run`` (production mode) on a database of its
own on the session's embedded PostgreSQL. The browser is Debian's chromium
driven by Playwright; when it cannot start, the suite fails under CI
(``CI`` set) and is skipped elsewhere, saying why.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Error, Page, Playwright, sync_playwright
from yarl import URL

from portal.main import INSTALLED_APPS
from portal.platform import embedded
from portal.platform.migrations import upgrade
from tests.conftest import PASSWORD, TEST_SECRET, truncate_all

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def e2e_database(database_url: str) -> str:
    """A migrated database of the end-to-end suite's own, beside the unit tests' one."""
    embedded.ensure_database(database_url, E2E_DATABASE)
    # with_path() clears the query, which holds the server's socket folder.
    source = URL(database_url)
    url = str(source.with_path(f"/{E2E_DATABASE}").with_query(source.query))
    upgrade(url, INSTALLED_APPS)
    return url


@dataclass(frozen=True)
class LiveServer:
    """A running site: its base URL and the environment its CLI commands need."""

    url: str
    env: dict[str, str]

    def cli(self, *args: str, stdin: str = "") -> str:
        """Run ``python -m portal *args`` against this site's database."""
        return _run_cli(self.env, *args, stdin=stdin)


@pytest.fixture
def live_server(e2e_database: str, tmp_path: Path) -> Iterator[LiveServer]:
    """The site served by ``python -m portal run`` on an empty database, with a staff user."""
    truncate_all(e2e_database)
    port = _free_port()
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": e2e_database,
        "PORTAL_SECRET_KEY": TEST_SECRET,
        "PORTAL_DEBUG": "0",
        "PORTAL_DATA_DIR": str(tmp_path / "data"),
    }
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "portal", "run", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(base, server, tmp_path / "server.log")
        server_ = LiveServer(url=base, env=env)
        server_.cli("createsuperuser", "--username", "staff", "--password-stdin", stdin=PASSWORD)
        yield server_
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def _wait_until_ready(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    import urllib.request

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the server exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"the server did not become ready:\n{log.read_text()}")


def _run_cli(env: dict[str, str], *args: str, stdin: str = "") -> str:
    result = subprocess.run(
        [sys.executable, "-m", "portal", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
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
