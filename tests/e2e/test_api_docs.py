"""``/api/docs`` in a real browser, debug off: Swagger UI renders under the site's CSP and
"Try it out" reaches the real API with a bearer token."""

from __future__ import annotations

import json
import urllib.request

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from portal.apps.api.docs import DOCS_CONTENT_SECURITY_POLICY
from tests.e2e.conftest import OUTPUT, screenshot
from tests.servers import Server

pytestmark = pytest.mark.browser

#: Records, from before any of the page's own scripts, what the CSP refused.
_RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.fixture
def token(live_server: Server) -> str:
    """A write token of the staff user."""
    return live_server.cli("token", "create", "staff").strip().splitlines()[-1]


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    """The error messages the page's console shows (a CSP refusal is one)."""
    errors: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", record)
    page.add_init_script(_RECORD_VIOLATIONS)
    return errors


def _todos(server: Server) -> list[str]:
    with urllib.request.urlopen(f"{server.url}/api/todos/") as response:
        return [item["name"] for item in json.load(response)["items"]]


def test_the_docs_page_renders_every_operation_within_the_csp(
    page: Page, live_server: Server, console_errors: list[str]
) -> None:
    response = page.goto(f"{live_server.url}/api/docs")

    assert response is not None
    assert response.headers["content-security-policy"] == DOCS_CONTENT_SECURITY_POLICY
    expect(page.locator("#operations-todos-create_todo")).to_be_visible()
    expect(page.locator("#operations-polls-list_questions")).to_be_visible()
    page.screenshot(path=str(OUTPUT / "screenshots" / "api-docs.png"))
    assert page.evaluate("window.__cspViolations") == []
    assert console_errors == []


def test_try_it_out_creates_then_lists_a_todo_with_a_bearer_token(
    page: Page, live_server: Server, token: str, console_errors: list[str]
) -> None:
    page.goto(f"{live_server.url}/api/docs")
    page.get_by_role("button", name="Authorize").first.click()
    dialog = page.locator(".auth-container").filter(has_text="bearerAuth")
    dialog.get_by_label("auth-bearer-value").fill(token)
    dialog.get_by_role("button", name="Apply credentials").click()
    page.get_by_role("button", name="Close").click()

    operation = page.locator("#operations-todos-create_todo")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.locator("textarea.body-param__text").fill('{"name": "Tried out"}')
    operation.get_by_role("button", name="Execute").click()

    expect(
        operation.locator(".live-responses-table tr.response .response-col_status")
    ).to_have_text("201")
    assert _todos(live_server) == ["Tried out"]

    listing = page.locator("#operations-todos-list_todos")
    listing.locator(".opblock-summary").click()
    listing.get_by_role("button", name="Try it out").click()
    listing.get_by_role("button", name="Execute").click()

    expect(listing.locator(".live-responses-table tr.response .response-col_status")).to_have_text(
        "200"
    )
    expect(
        listing.locator(".live-responses-table tr.response .response-col_description")
    ).to_contain_text("Tried out")
    screenshot(page, "api-docs-try-it-out")
    assert page.evaluate("window.__cspViolations") == []
    assert console_errors == []
