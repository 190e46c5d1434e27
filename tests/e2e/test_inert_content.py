"""Stored markup and template syntax show as the text they are, in a real browser.

A question, a choice and a todo are stored (through the API) with ``<script>``,
event-handler and attribute-breaking payloads and ``{{7*7}}`` in them. Every
page that shows them, the live updates included, must show them literally:
no element is injected, no dialog opens, and no template evaluates them to 49.
The site's CSP would block an inline script anyway, so the DOM itself is
checked, not only the dialogs.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import Dialog, Page, expect

from portal.testing import PASSWORD
from tests.e2e.conftest import screenshot
from tests.servers import Server

pytestmark = pytest.mark.browser

QUESTION = '<script>alert(1)</script>{{7*7}}"><img src=x onerror=alert(2)>'
CHOICE = "<img src=x onerror=alert(3)>{{7*7}}'><svg onload=alert(4)>"
TODO = '<script>alert(5)</script>{{7*7}}"><svg onload=alert(6)>'
#: What the payloads would inject, were they markup.
INJECTED = "script:not([src]), img[src=x], svg[onload], [onerror], [onload]"


def api(server: Server, token: str, method: str, path: str, body: Any = None) -> Any:
    """Call the live server's API with *token*; the decoded JSON answer (None for 204)."""
    request = urllib.request.Request(
        server.url + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


@pytest.fixture
def token(live_server: Server) -> str:
    """An API token of the staff user."""
    return live_server.cli("token", "create", "staff").strip().splitlines()[-1]


@pytest.fixture
def dialogs(page: Page) -> list[str]:
    """Every dialog the page opens (each dismissed), to assert there were none."""
    opened: list[str] = []

    def record(dialog: Dialog) -> None:
        opened.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    return opened


def log_in(page: Page, base: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", "staff")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("Welcome, staff.")


def assert_inert(page: Page, *shown: str) -> None:
    """Each of *shown* is on the page as literal text, and nothing it holds ran or rendered."""
    for text in shown:
        expect(page.get_by_text(text, exact=True).first).to_be_visible()
    assert page.locator(INJECTED).count() == 0
    assert "49" not in page.locator("body").inner_text()


def test_a_stored_payload_in_a_poll_is_shown_as_text_everywhere(
    page: Page, live_server: Server, token: str, dialogs: list[str]
) -> None:
    base = live_server.url
    created = api(
        live_server,
        token,
        "POST",
        "/api/questions/",
        {
            "question_text": QUESTION,
            "pub_date": "2024-01-02T03:04:05Z",
            "choices": [{"choice_text": CHOICE}],
        },
    )
    question_id, choice_id = created["id"], created["choices"][0]["id"]

    page.goto(f"{base}/polls/")
    assert_inert(page, QUESTION)
    page.goto(f"{base}/polls/{question_id}/")
    assert_inert(page, QUESTION, CHOICE)
    page.goto(f"{base}/polls/{question_id}/results")
    assert_inert(page, QUESTION, CHOICE)
    # A vote elsewhere updates the open results page live.
    api(live_server, token, "POST", f"/api/questions/{question_id}/choices/{choice_id}/vote")
    expect(page.locator(f'.votes[data-choice-id="{choice_id}"]')).to_have_text("1")
    assert_inert(page, QUESTION, CHOICE)
    screenshot(page, "inert_results")

    log_in(page, base)
    page.goto(f"{base}/admin/polls/question/")
    assert_inert(page, QUESTION)
    page.goto(f"{base}/admin/polls/choice/")
    assert_inert(page, CHOICE)
    screenshot(page, "inert_admin_choices")

    assert dialogs == []


def test_a_stored_payload_in_a_todo_is_shown_as_text_everywhere(
    page: Page, live_server: Server, token: str, dialogs: list[str]
) -> None:
    base = live_server.url
    page.goto(f"{base}/todos/")
    expect(page.locator("#todo-list")).to_contain_text("Nothing to do yet.")

    # Added while the page is open: the live update redraws the list from the server.
    api(live_server, token, "POST", "/api/todos/", {"name": TODO})
    expect(page.locator("#todo-list .name")).to_have_text(TODO)
    assert_inert(page, TODO)
    page.reload()
    assert_inert(page, TODO)
    screenshot(page, "inert_todos")

    log_in(page, base)
    page.goto(f"{base}/admin/todos/todo/")
    assert_inert(page, TODO)

    assert dialogs == []
