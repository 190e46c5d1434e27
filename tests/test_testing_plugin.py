"""portal.testing as an app's tests meet it: a pytest plugin loaded by name."""

from __future__ import annotations

import psycopg2
import pytest

from portal.testing import REQUIRE_BROWSER_ENV, truncate_all

A_SKIPPED_BROWSER = """
import pytest


@pytest.fixture
def browser():
    pytest.skip("no browser could start (/usr/bin/nothing)")


def test_a_page(browser):
    pass


def test_without_a_browser():
    pass
"""

AN_APP_TEST = """
from portal.testing import Client, bearer, log_in


async def test_the_home_page_answers(client: Client) -> None:
    assert (await client.get("/")).status == 200


async def test_a_staff_user_logs_in(client: Client, staff_user) -> None:
    assert (await log_in(client, staff_user.username)).status == 303


async def test_a_token_writes(client: Client, api_token: str) -> None:
    response = await client.post("/api/todos/", json={"name": "x"}, headers=bearer(api_token))
    assert response.status == 201
"""


def run_pytest(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """pytest on *pytester*'s folder, in this process, with portal.testing loaded by name."""
    return pytester.runpytest_inprocess(
        "-p",
        "portal.testing",
        "-p",
        "no:cacheprovider",
        "-o",
        "asyncio_mode=auto",
        "-o",
        "asyncio_default_fixture_loop_scope=function",
        *args,
    )


@pytest.fixture
def skipped_browser(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_pages=A_SKIPPED_BROWSER)
    return pytester


def test_a_skipped_browser_test_is_one_loud_line(
    skipped_browser: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(REQUIRE_BROWSER_ENV, raising=False)

    result = run_pytest(skipped_browser)

    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "BROWSER TESTS SKIPPED: 1 browser test(s) did not run, so no page was checked "
            "in a browser (no browser could start (/usr/bin/nothing))"
        ]
    )


def test_a_skipped_browser_test_fails_a_run_that_requires_the_browser(
    skipped_browser: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(REQUIRE_BROWSER_ENV, "1")

    result = run_pytest(skipped_browser)

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*so the run fails"])


def test_a_run_without_skipped_browser_tests_says_nothing_of_them(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(REQUIRE_BROWSER_ENV, "1")
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")

    result = run_pytest(pytester)

    assert result.ret == pytest.ExitCode.OK
    result.stdout.no_fnmatch_line("*BROWSER TESTS SKIPPED*")


def test_an_apps_tests_outside_the_project_run_on_the_plugins_fixtures(
    pytester: pytest.Pytester, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On this session's server rather than an embedded one of its own.
    monkeypatch.setenv("PORTAL_TEST_DATABASE_URL", database_url)
    pytester.makepyfile(test_app=AN_APP_TEST)

    result = run_pytest(pytester)

    result.assert_outcomes(passed=3)


def _sql(url: str, statement: str) -> list[tuple[object, ...]]:
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(statement)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def test_truncate_all_empties_every_table_and_restarts_every_id(clean_db: str) -> None:
    _sql(clean_db, "INSERT INTO question (question_text, pub_date) VALUES ('Kept?', now())")
    # An empty table whose ids have moved on: its sequence must restart too.
    _sql(clean_db, "INSERT INTO todo (name) VALUES ('one'), ('two')")
    _sql(clean_db, "DELETE FROM todo")

    truncate_all(clean_db)

    assert _sql(clean_db, "SELECT count(*) FROM question") == [(0,)]
    assert _sql(clean_db, "INSERT INTO todo (name) VALUES ('first') RETURNING id") == [(1,)]
