"""The staff admin in a real browser: the whole life of a question."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import screenshot
from tests.e2e.test_public_site import log_in
from tests.servers import Server

pytestmark = pytest.mark.browser

QUESTION = "Which editor do you use?"


def test_staff_manage_a_question_while_a_visitor_votes(
    page: Page, live_server: Server, browser: Browser
) -> None:
    base = live_server.url
    log_in(page, base)

    # Create a question with three choices, inline.
    page.goto(f"{base}/admin/")
    page.click("#add-polls-question")
    page.fill("#id_question_text", QUESTION)
    for n, text in enumerate(("Vim", "Emacs", "Nano")):
        page.fill(f"#choice-{n}-choice_text", text)
    page.click("#save")
    expect(page.locator(".flash")).to_contain_text(QUESTION)

    # Find it by search.
    page.fill("#searchbar", "editor")
    page.click("#search-submit")
    expect(page.locator("#result-list")).to_contain_text(QUESTION)
    screenshot(page, "admin_list")
    page.locator("#result-list").get_by_role("link", name=QUESTION).click()

    # Edit a choice, and see the change in the history.
    expect(page.locator("h1")).to_contain_text("question")
    page.fill("#choice-2-choice_text", "Nano (GNU)")
    screenshot(page, "admin_edit")
    page.click("#save-continue")
    expect(page.locator("#choice-2-choice_text")).to_have_value("Nano (GNU)")
    page.click("#history-link")
    expect(page.locator("table#history")).to_contain_text("Nano (GNU)")
    question_url = re.sub(r"history/?$", "", page.url)

    # A visitor votes on the public page.
    visitor = browser.new_context()
    public = visitor.new_page()
    public.goto(f"{base}/polls/")
    public.get_by_role("link", name=QUESTION).click()
    public.get_by_label("Emacs").check()
    public.get_by_role("button", name="Vote").click()
    expect(public.locator("tr", has_text="Emacs").locator(".votes")).to_have_text("1")
    visitor.close()

    # The staff user sees the vote in the admin.
    page.goto(question_url)
    expect(page.locator("#choice-1-votes")).to_have_value("1")

    # And deletes the question through the confirmation page.
    page.click("#delete-link")
    expect(page.locator("#cascade")).to_contain_text("Emacs")
    page.click("#confirm")
    expect(page.locator(".flash")).to_contain_text("deleted")
    page.goto(f"{base}/polls/")
    expect(page.get_by_role("link", name=QUESTION)).to_have_count(0)
