"""portal.testing as an app's tests meet it: a pytest plugin loaded by name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from portal.testing import REQUIRE_BROWSER_ENV

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


def run_pytest(folder: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != REQUIRE_BROWSER_ENV}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "portal.testing", "-p", "no:cacheprovider",
         "-o", "asyncio_mode=auto", str(folder)],
        cwd=folder, env=environment, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


@pytest.fixture
def skipped_browser(tmp_path: Path) -> Path:
    (tmp_path / "test_pages.py").write_text(A_SKIPPED_BROWSER)
    return tmp_path


def test_a_skipped_browser_test_is_one_loud_line(skipped_browser: Path) -> None:
    result = run_pytest(skipped_browser)

    assert result.returncode == 0, result.stdout
    assert (
        "BROWSER TESTS SKIPPED: 1 browser test(s) did not run, so no page was checked "
        "in a browser (no browser could start (/usr/bin/nothing))"
    ) in result.stdout


def test_a_skipped_browser_test_fails_a_run_that_requires_the_browser(
    skipped_browser: Path,
) -> None:
    result = run_pytest(skipped_browser, **{REQUIRE_BROWSER_ENV: "1"})

    assert result.returncode == 1, result.stdout
    assert "so the run fails" in result.stdout


def test_a_run_without_skipped_browser_tests_says_nothing_of_them(tmp_path: Path) -> None:
    (tmp_path / "test_plain.py").write_text("def test_plain():\n    pass\n")

    result = run_pytest(tmp_path, **{REQUIRE_BROWSER_ENV: "1"})

    assert result.returncode == 0, result.stdout
    assert "BROWSER TESTS SKIPPED" not in result.stdout


def test_an_apps_tests_outside_the_project_run_on_the_plugins_fixtures(tmp_path: Path) -> None:
    (tmp_path / "test_app.py").write_text(AN_APP_TEST)

    result = run_pytest(tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
