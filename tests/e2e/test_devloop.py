"""The development loop: the real ``adev runserver portal``, edited as a developer edits it.

The dev server runs on a copy of the ``portal`` package (edits here never touch
the tree the other tests import), with its own embedded PostgreSQL, as
``make run`` starts it. Files are saved both ways editors save: written in place, and
written beside and renamed over (``sed -i``, some editors).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from portal.testing import migrated_database
from tests.e2e.conftest import screenshot
from tests.servers import ROOT, free_port

ADEV = str(Path(sys.executable).parent / "adev")
#: Generous bounds for a loaded CI machine: reload speed is measured by hand
#: (README), these only prove the page comes back by itself. (``expect`` has
#: its own 5 s default: the context's default timeout does not reach it.)
RELOAD = 15_000


@dataclass(frozen=True)
class DevSite:
    """A running ``adev runserver portal`` over a copy of the package."""

    root: Path
    url: str
    aux_port: int
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def path(self, relative: str) -> Path:
        return self.root / "portal" / relative


def _wait_for(url: str, output: Callable[[], str], process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, output()
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError as answered:
            answered.close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"the dev server did not answer:\n{output()}")


def _env(root: Path, database: str | None, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "AIO_"))}
    return env | {
        # The copy, not the installed tree, is what the server imports.
        "PYTHONPATH": str(root),
        "PORTAL_DATA_DIR": str(root / ".data"),
        **({"PORTAL_DATABASE_URL": database} if database else {}),
        **extra,
    }


def _portal(root: Path, *args: str) -> None:
    """``python -m portal *args`` in the copy, as a developer runs it (the embedded database)."""
    subprocess.run(
        [sys.executable, "-m", "portal", *args],
        cwd=root, env=_env(root, None, {}), check=True, capture_output=True, timeout=120,
    )  # fmt: skip


def _start(root: Path, database: str | None, env_extra: dict[str, str], log: Path) -> tuple[
    subprocess.Popen[bytes], int, int
]:  # fmt: skip
    """Start adev on the copy; with *database* None, on the copy's embedded PostgreSQL."""
    port, aux_port = free_port(), free_port()
    env = _env(root, database, env_extra)
    with log.open("w") as out:  # the server keeps its own copy of the descriptor
        process = subprocess.Popen(
            [ADEV, "runserver", "portal", "--port", str(port), "--aux-port", str(aux_port)],
            cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    return process, port, aux_port


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=15)
    # The server process adev spawned, should it have outlived its parent.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _copy_of_portal(root: Path) -> Path:
    shutil.copytree(ROOT / "portal", root / "portal", ignore=shutil.ignore_patterns("__pycache__"))
    return root


@pytest.fixture(scope="module")
def devloop_database(database_url: str) -> str:
    return migrated_database(database_url, "portal_devloop")


@pytest.fixture(scope="module")
def dev_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevSite]:
    """``make run`` on a copy of the package: the embedded PostgreSQL migrated, then adev."""
    root = _copy_of_portal(tmp_path_factory.mktemp("devloop"))
    _portal(root, "migrate")
    log = root / "adev.log"
    process, port, aux_port = _start(root, None, {}, log)
    site = DevSite(root, f"http://127.0.0.1:{port}/", aux_port, log)
    try:
        _wait_for(site.url + "healthz", site.output, process)
        yield site
    finally:
        _stop(process)
        _portal(root, "db", "stop")


def save_in_place(path: Path, text: str) -> None:
    """Rewrite the file's bytes in the same inode, as most editors save."""
    with path.open("r+") as file:
        file.seek(0)
        file.write(text)
        file.truncate()


def save_by_replacing(path: Path, text: str) -> None:
    """Write a new file beside it and rename it over (``sed -i``)."""
    new = path.with_name(f".{path.name}.new")
    new.write_text(text)
    os.replace(new, path)


SAVES = [save_in_place, save_by_replacing]


def _edit(path: Path, old: str, new: str, save: Callable[[Path, str], None]) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    save(path, text.replace(old, new, 1))


def _listening(port: int) -> set[str]:
    """The local addresses a TCP socket listens on at *port* (from /proc/net/tcp)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            next(rows)
            for row in rows:
                local, state = row.split()[1], row.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                    found.add(address)
    return found


LOOPBACK = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it


def _lines_about(site: DevSite, marker: str) -> list[str]:
    return [line for line in site.output().splitlines() if marker in line]


def _wait_for_line(site: DevSite, marker: str) -> list[str]:
    deadline = time.monotonic() + 10
    while not _lines_about(site, marker):
        assert time.monotonic() < deadline, site.output()
        time.sleep(0.1)
    time.sleep(0.3)  # anything else it would print about the request
    return _lines_about(site, marker)


# Addresses


def test_the_site_and_livereload_listen_on_this_machine_only(dev_site: DevSite) -> None:
    port = int(dev_site.url.rsplit(":", 1)[1].strip("/"))

    assert _listening(port) == {LOOPBACK}
    assert _listening(dev_site.aux_port) == {LOOPBACK}
    assert f"dev server at {dev_site.url} ●" in dev_site.output()


def test_make_run_passes_host_only_when_asked() -> None:
    def run_line(*args: str) -> str:
        dry = subprocess.run(
            ["make", "-n", "run", *args], cwd=ROOT, capture_output=True, text=True, check=True
        )
        return next(line for line in dry.stdout.splitlines() if "adev runserver" in line)

    assert "PORTAL_HOST" not in run_line()
    assert "PORTAL_HOST=0.0.0.0" in run_line("HOST=0.0.0.0")


def test_host_every_interface_listens_everywhere_and_says_so(
    devloop_database: str, tmp_path: Path
) -> None:
    root = _copy_of_portal(tmp_path)
    log = tmp_path / "adev.log"
    every_interface = {"PORTAL_HOST": "0.0.0.0"}  # noqa: S104 - what the test is about
    process, port, _ = _start(root, devloop_database, every_interface, log)
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", log.read_text, process)
        assert _listening(port) == {"00000000"}
        assert "listening on every interface" in log.read_text()
    finally:
        _stop(process)


def test_a_foreign_host_is_refused_with_the_toolbar_on(dev_site: DevSite) -> None:
    for path in ("polls/", "_debugtoolbar/"):
        request = urllib.request.Request(dev_site.url + path, headers={"Host": "evil.example"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        refused.value.close()
        assert refused.value.code == 400


# The terminal


def test_a_4xx_is_one_line_without_headers_or_secrets(dev_site: DevSite) -> None:
    request = urllib.request.Request(
        dev_site.url + "no/such/page-4xx",
        headers={"Authorization": "Bearer tok-SECRET-1", "Cookie": "portal_session=SECRET-2"},
    )
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(request, timeout=5)
    missing.value.close()
    assert missing.value.code == 404

    lines = _wait_for_line(dev_site, "/no/such/page-4xx")
    assert len(lines) == 1
    assert re.search(r"GET /no/such/page-4xx 404 [\d.]+ms user=-$", lines[0])
    output = dev_site.output()
    assert "SECRET" not in output
    assert "request_headers" not in output


# Reloading in the browser


@pytest.fixture
def page(browser: Browser, dev_site: DevSite) -> Iterator[Page]:
    """A page on the dev site's polls index, with livereload connected."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(RELOAD)
    page = context.new_page()
    try:
        page.goto(dev_site.url + "polls/")
        _connected(page)
        yield page
    finally:
        context.close()


def _mark(page: Page) -> None:
    """A value that lives until the page is reloaded."""
    page.evaluate("() => { window.portalMark = 1 }")


def _still_marked(page: Page) -> bool:
    return bool(page.evaluate("() => window.portalMark === 1"))


def _connected(page: Page) -> None:
    """Wait until the page's livereload socket has shaken hands, and told its address."""
    page.wait_for_function("() => (window.LiveReload?.connector?.protocol ?? 0) > 0")
    page.wait_for_timeout(300)


@pytest.mark.parametrize("save", SAVES, ids=["in-place", "replacing"])
def test_a_template_save_reloads_the_page_every_time(
    page: Page, dev_site: DevSite, save: Callable[[Path, str], None]
) -> None:
    template = dev_site.path("apps/polls/templates/polls/index.html")
    heading = page.locator("h1").first
    for n in (1, 2):
        current = heading.inner_text()
        _edit(template, f"<h1>{current}</h1>", f"<h1>Polls {save.__name__} {n}</h1>", save)
        expect(heading).to_have_text(f"Polls {save.__name__} {n}", timeout=RELOAD)
        _connected(page)


@pytest.mark.parametrize("save", SAVES, ids=["in-place", "replacing"])
def test_a_stylesheet_save_applies_without_reloading(
    page: Page, dev_site: DevSite, save: Callable[[Path, str], None]
) -> None:
    stylesheet = dev_site.path("apps/polls/static/polls.css")
    heading = page.locator("h1").first
    _mark(page)
    for n in (1, 2):
        colour = f"rgb({n}, 2, 3)"
        text = stylesheet.read_text()
        save(stylesheet, f"{text}\nh1 {{ color: {colour} !important; }}\n")
        expect(heading).to_have_css("color", colour, timeout=RELOAD)
    assert _still_marked(page), "the page was reloaded for a stylesheet"


@pytest.mark.parametrize("save", SAVES, ids=["in-place", "replacing"])
def test_a_python_save_restarts_and_serves_the_new_code(
    page: Page, dev_site: DevSite, save: Callable[[Path, str], None]
) -> None:
    module = dev_site.path("apps/polls/__init__.py")
    postmaster = dev_site.root / ".data" / "postgres" / "postmaster.pid"
    postgres = postmaster.read_text().splitlines()[0]
    for n in (1, 2):
        title = re.search(r'title="([^"]*)"', module.read_text())
        assert title
        new = f"Polls {save.__name__} py {n}"
        _edit(module, f'title="{title.group(1)}"', f'title="{new}"', save)
        expect(page.get_by_role("link", name=new, exact=True)).to_be_visible(timeout=RELOAD)
        _connected(page)
    # The app restarted; the embedded PostgreSQL and its data did not.
    assert postmaster.read_text().splitlines()[0] == postgres


def test_a_syntax_error_shows_in_the_browser_and_the_fix_brings_the_page_back(
    page: Page, dev_site: DevSite
) -> None:
    views = dev_site.path("apps/polls/views.py")
    good = views.read_text()
    before = len(dev_site.output())
    save_in_place(views, good + "\ndef broken(:\n    pass\n")
    try:
        expect(page.locator("h1")).to_have_text("portal could not start", timeout=RELOAD)
        _connected(page)
        expect(page.locator("pre").first).to_contain_text("SyntaxError", timeout=RELOAD)
        screenshot(page, "devloop-syntax-error")
        # A developer who refreshes onto the error is still brought back.
        page.reload()
        expect(page.locator("h1")).to_have_text("portal could not start", timeout=RELOAD)
        _connected(page)
    finally:
        save_in_place(views, good)
    expect(page.locator("h1").first).not_to_have_text("portal could not start", timeout=RELOAD)
    assert page.url.endswith("/polls/")

    printed = dev_site.output()[before:]
    block = printed[printed.index("portal could not start") :]
    block = block[: block.index("restarts and the page reloads by itself")]
    assert "SyntaxError" in block
    assert "views.py" in block
    assert "Traceback" not in block
    assert block.count("\n") < 12


# The toolbar


def test_the_sql_panel_shows_the_values_the_page_ran_with(dev_site: DevSite) -> None:
    with urllib.request.urlopen(dev_site.url + "polls/", timeout=5) as response:
        page = response.read().decode()
    request_id = re.search(r"/_debugtoolbar/([0-9a-f]+)", page)
    assert request_id

    toolbar_url = f"{dev_site.url}_debugtoolbar/{request_id.group(1)}"
    with urllib.request.urlopen(toolbar_url, timeout=5) as response:
        toolbar = response.read().decode()

    # The index's LIMIT is an sa.bindparam("limit") given by the view.
    assert "&#39;limit&#39;: 10" in toolbar
    assert "&#39;limit&#39;: None" not in toolbar
