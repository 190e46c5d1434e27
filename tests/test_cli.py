"""The command line: ``python -m portal check|migrate|seed``, and refusing to run as a script."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import psycopg2
import pytest

from portal import cli
from portal.apps.polls.seed import SAMPLE_QUESTIONS
from portal.platform.db.revisions import expected_heads
from tests.conftest import INSTALLED_APPS
from tests.databases import revisions

REPO = Path(__file__).resolve().parent.parent
SAFE_SECRET = "a-production-secret-that-is-long-enough-for-check"


def run_portal(
    args: list[str], env: Mapping[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m portal ARGS`` in a fresh interpreter with only *env* as settings."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    return subprocess.run(
        [sys.executable, "-m", "portal", *args],
        env={**base, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def safe_env(clean_db: str, data_dir: Path) -> dict[str, str]:
    return {
        "PORTAL_DEBUG": "0",
        "PORTAL_SECRET_KEY": SAFE_SECRET,
        "PORTAL_SESSION_COOKIE_SECURE": "1",
        "PORTAL_ALLOWED_HOSTS": "portal.example",
        "PORTAL_DATABASE_URL": clean_db,
        "PORTAL_DATA_DIR": str(data_dir),
    }


def test_check_passes_a_safe_configuration(clean_db: str, tmp_path: Path) -> None:
    result = run_portal(["check"], safe_env(clean_db, tmp_path / "data"), tmp_path)

    assert result.returncode == 0, result.stderr
    assert "No problems found." in result.stdout


def test_check_names_every_unsafe_setting(clean_db: str, tmp_path: Path) -> None:
    env = {"PORTAL_DEBUG": "1", "PORTAL_DATABASE_URL": clean_db, "PORTAL_DATA_DIR": str(tmp_path)}

    result = run_portal(["check"], env, tmp_path)

    assert result.returncode == 1
    assert "debug is on" in result.stderr
    assert "development key" in result.stderr
    assert "session cookies are sent over plain http" in result.stderr
    assert "no allowed_hosts" in result.stderr
    assert "4 problem(s) found." in result.stderr


def test_check_names_a_missing_secret_key(clean_db: str, tmp_path: Path) -> None:
    env = safe_env(clean_db, tmp_path)
    del env["PORTAL_SECRET_KEY"]

    result = run_portal(["check"], env, tmp_path)

    assert result.returncode == 1
    assert "no secret key" in result.stderr
    assert "1 problem(s) found." in result.stderr


def test_check_names_an_allow_list_that_allows_any_host(clean_db: str, tmp_path: Path) -> None:
    env = {**safe_env(clean_db, tmp_path), "PORTAL_ALLOWED_HOSTS": "*"}

    result = run_portal(["check"], env, tmp_path)

    assert result.returncode == 1
    assert "any Host header is accepted" in result.stderr


def test_check_names_the_test_suites_fast_password_hashing(clean_db: str, tmp_path: Path) -> None:
    env = {**safe_env(clean_db, tmp_path), "PORTAL_FAST_PASSWORD_HASHING": "1"}

    result = run_portal(["check"], env, tmp_path)

    assert result.returncode == 1
    assert "PORTAL_FAST_PASSWORD_HASHING is set" in result.stderr
    assert "1 problem(s) found." in result.stderr


def test_check_names_an_unreachable_database(tmp_path: Path) -> None:
    env = safe_env("postgresql://portal@127.0.0.1:1/portal?connect_timeout=2", tmp_path)

    result = run_portal(["check"], env, tmp_path)

    assert result.returncode == 1
    assert "cannot connect to the database" in result.stderr


def test_bad_setting_stops_a_command_with_one_line(tmp_path: Path) -> None:
    result = run_portal(["check"], {"PORTAL_PORT": "eighty"}, tmp_path)

    assert result.returncode == 1
    assert result.stderr.strip() == "error: PORTAL_PORT must be an integer, not 'eighty'"


@pytest.mark.parametrize("script", ["portal/__main__.py", "portal"])
def test_running_inside_the_package_as_a_script_is_refused(script: str) -> None:
    result = subprocess.run(
        [sys.executable, script, "check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert "python -m portal" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_lists_every_command(tmp_path: Path) -> None:
    result = run_portal(["--help"], {}, tmp_path)

    assert result.returncode == 0
    for command in ("run", "migrate", "seed", "createsuperuser", "check", "db"):
        assert command in result.stdout


# migrate and seed run in this process: they read PORTAL_* through os.environ.


@pytest.fixture
def cli_db(monkeypatch: pytest.MonkeyPatch, clean_db: str) -> str:
    """Point the CLI at the clean test database, and at nothing else."""
    for name in ("PORTAL_CONFIG", "PORTAL_DEBUG", "PORTAL_SECRET_KEY", "PORTAL_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORTAL_DATABASE_URL", clean_db)
    return clean_db


def count(url: str, table: str) -> int:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed names
            row = cur.fetchone()
    finally:
        conn.close()
    assert row is not None
    return int(row[0])


def test_migrate_on_an_up_to_date_database_changes_nothing(
    cli_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["migrate"]) == 0
    assert cli.main(["migrate"]) == 0

    assert revisions(cli_db) == expected_heads(INSTALLED_APPS)
    assert "The database schema is up to date." in capsys.readouterr().out


def test_seed_loads_the_sample_questions(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["seed"]) == 0

    assert count(cli_db, "question") == len(SAMPLE_QUESTIONS)
    assert count(cli_db, "choice") == sum(len(choices) for _, choices in SAMPLE_QUESTIONS)
    assert "Sample data for polls is loaded." in capsys.readouterr().out


def test_seed_twice_adds_nothing_the_second_time(cli_db: str) -> None:
    assert cli.main(["seed"]) == 0
    questions, choices = count(cli_db, "question"), count(cli_db, "choice")

    assert cli.main(["seed"]) == 0

    assert (count(cli_db, "question"), count(cli_db, "choice")) == (questions, choices)


def test_db_stop_with_a_database_url_is_refused(
    cli_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["db", "stop"]) == 1

    assert "no embedded server to stop" in capsys.readouterr().err


def test_db_stop_without_a_running_server_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PORTAL_DATABASE_URL", raising=False)
    monkeypatch.delenv("PORTAL_CONFIG", raising=False)
    monkeypatch.setenv("PORTAL_DATA_DIR", str(tmp_path))

    assert cli.main(["db", "stop"]) == 0

    assert "was not running" in capsys.readouterr().out
