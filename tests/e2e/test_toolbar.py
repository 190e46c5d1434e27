"""The debug toolbar in a real browser: its handle covers nothing, and it opens in the same tab.

The suite's ``live_server`` runs with debug off; these tests start ``python -m
portal run`` with ``PORTAL_DEBUG=1``, which turns the toolbar on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Response, ViewportSize, expect

from portal.testing import PASSWORD, migrated_database, truncate_all
from tests.e2e.conftest import screenshot
from tests.servers import Server, free_port, portal_command, running, server_env

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 375, "height": 667}

# Every link, control and line of text on the page whose box meets the
# handle's, in the viewport as it is scrolled now.
_COVERED = """
() => {
  const handle = document.querySelector('#pDebug a').getBoundingClientRect();
  const meets = r => r.width > 0 && r.height > 0 && r.left < handle.right
    && r.right > handle.left && r.top < handle.bottom && r.bottom > handle.top;
  const covered = [];
  for (const el of document.querySelectorAll('a, button, input, select, textarea, label')) {
    if (!el.closest('#pDebug') && meets(el.getBoundingClientRect())) {
      covered.push(el.outerHTML.slice(0, 80));
    }
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim() || node.parentElement.closest('#pDebug, script, style')) {
      continue;
    }
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) {
      if (meets(r)) covered.push(node.textContent.trim().slice(0, 80));
    }
  }
  return covered;
}
"""


@pytest.fixture(scope="module")
def debug_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The site with debug on (the toolbar with it), sample data loaded and a staff user.

    One server for the module, on a database of its own: the tests only read.
    """
    database = migrated_database(database_url, "portal_toolbar_e2e")
    truncate_all(database)
    port = free_port()
    folder = tmp_path_factory.mktemp("toolbar")
    env = {**server_env(database, folder / "data"), "PORTAL_DEBUG": "1"}
    with running(portal_command(port), port, env, folder / "server.log") as server:
        server.cli("seed")
        server.cli("createsuperuser", "--username", "staff", "--password-stdin", stdin=PASSWORD)
        yield server


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A fresh page 375 px wide, as on a phone."""
    context = browser.new_context(viewport=PHONE)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def _failures(page: Page) -> list[str]:
    """Every response of 400 or more the page gets from now on (favicon requests included)."""
    failures: list[str] = []

    def note(response: Response) -> None:
        if response.status >= 400:
            failures.append(f"{response.status} {response.url}")

    page.on("response", note)
    return failures


def _covered(page: Page) -> list[Any]:
    covered: list[Any] = page.evaluate(_COVERED)
    return covered


@pytest.mark.parametrize("path", ["/", "/polls/", "/todos/", "/login"])
def test_the_handle_covers_nothing_at_phone_width(
    phone: Page, debug_server: Server, path: str
) -> None:
    phone.goto(f"{debug_server.url}{path}")
    handle = phone.locator("#pShowToolBarButton")
    expect(handle).to_be_visible()

    # At every scroll position: a handle fixed to the viewport covers
    # whatever scrolls under it.
    covered = {}
    height = phone.evaluate("document.documentElement.scrollHeight")
    for y in range(0, height, 50):
        phone.evaluate(f"window.scrollTo(0, {y})")
        covered[y] = _covered(phone)

    assert {y: hits for y, hits in covered.items() if hits} == {}


def test_the_toolbar_opens_in_the_same_tab_and_leads_back(
    phone: Page, debug_server: Server
) -> None:
    failures = _failures(phone)
    phone.goto(f"{debug_server.url}/polls/")
    screenshot(phone, "toolbar_handle_375")

    phone.click("#pShowToolBarButton")
    expect(phone).to_have_url(re.compile(r"/_debugtoolbar/[0-9a-f]+$"))
    assert len(phone.context.pages) == 1
    phone.click("a#pDebugSQLPanel")
    expect(phone.locator("#pDebugSQLPanel-content")).to_contain_text("'limit': ")
    screenshot(phone, "toolbar_sql_panel_375")

    phone.click("#pDebugBack")
    expect(phone).to_have_url(f"{debug_server.url}/polls/")
    phone.wait_for_load_state("networkidle")
    assert failures == []
