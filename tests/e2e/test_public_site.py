"""A visitor and a logged-in user on the public pages, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from portal.testing import PASSWORD
from tests.e2e.conftest import screenshot
from tests.servers import Server

pytestmark = pytest.mark.browser


def log_in(page: Page, base: str, username: str = "staff") -> None:
    """Log in through the real form."""
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def test_a_visitor_votes_on_a_seeded_poll_and_sees_the_count(
    page: Page, live_server: Server
) -> None:
    live_server.cli("seed")
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Polls").first.click()
    page.get_by_role("link", name="What's new?").click()
    page.get_by_label("The sky").check()
    page.get_by_role("button", name="Vote").click()

    expect(page.locator(".flash")).to_contain_text("Your vote for “The sky” was counted.")
    expect(page.locator("tr", has_text="The sky").locator(".votes")).to_have_text("1")
    screenshot(page, "polls_results")


def test_staff_logs_in_and_out(page: Page, live_server: Server) -> None:
    log_in(page, live_server.url)
    expect(page.locator(".flash")).to_contain_text("Welcome, staff.")
    page.get_by_role("button", name="Log out").click()
    expect(page.locator(".flash")).to_have_text("You have logged out.")
    expect(page).to_have_url(re.compile(r"/$"))


def test_a_logged_in_user_adds_and_finishes_a_todo(page: Page, live_server: Server) -> None:
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/todos/")
    page.fill("input[name=name]", "Write the end-to-end suite")
    page.get_by_role("button", name="Add").click()
    item = page.locator("li", has_text="Write the end-to-end suite")
    expect(item).to_be_visible()
    item.get_by_role("button", name="Mark finished").click()
    expect(page.locator("li", has_text="Write the end-to-end suite")).to_contain_text("Finished")
    screenshot(page, "todos")


def test_a_vote_in_one_tab_updates_the_results_open_in_another(
    page: Page, live_server: Server
) -> None:
    live_server.cli("seed")
    page.goto(f"{live_server.url}/polls/")
    page.get_by_role("link", name="What's new?").click()
    detail_url = page.url
    page.get_by_role("link", name="See the results").click()
    count = page.locator("tr", has_text="Not much").locator(".votes")
    expect(count).to_have_text("0")

    other = page.context.new_page()
    other.goto(detail_url)
    other.get_by_label("Not much").check()
    other.get_by_role("button", name="Vote").click()

    # No reload: the first tab's WebSocket brings the new count.
    expect(count).to_have_text("1")
    expect(page.locator("#total")).to_have_text("1 vote")


def test_a_todo_added_by_one_user_appears_in_another_users_open_page(
    page: Page, live_server: Server, browser: Browser
) -> None:
    page.goto(f"{live_server.url}/todos/")  # a visitor, not logged in
    expect(page.locator("#todo-list")).to_contain_text("Nothing to do yet.")

    staff = browser.new_context()
    other = staff.new_page()
    log_in(other, live_server.url)
    other.goto(f"{live_server.url}/todos/")
    other.fill("input[name=name]", "Appears everywhere")
    other.get_by_role("button", name="Add").click()
    staff.close()

    # No reload: the visitor's page re-reads the list when the change commits.
    expect(page.locator("#todo-list")).to_contain_text("Appears everywhere")
