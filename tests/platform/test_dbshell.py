"""``python -m portal dbshell``: psql on the configured database, arguments after ``--``."""

from __future__ import annotations

from pathlib import Path

import pytest
from yarl import URL

from portal import cli
from portal.platform.commands import dbshell


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, clean_db: str) -> str:
    """The environment of a CLI run against the clean test database."""
    for name in ("PORTAL_CONFIG", "PORTAL_DEBUG", "PORTAL_SECRET_KEY", "PORTAL_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORTAL_DATABASE_URL", clean_db)
    return clean_db


def test_dbshell_runs_psql_on_the_configured_database(
    cli_env: str, capfd: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(["dbshell", "--", "-At", "-c", "select current_database()"])

    assert status == 0
    assert capfd.readouterr().out.strip() == URL(cli_env).path.strip("/")


def test_dbshell_exits_with_psqls_status(cli_env: str, capfd: pytest.CaptureFixture[str]) -> None:
    status = cli.main(["dbshell", "--", "-c", "select * from no_such_table"])

    assert status != 0
    assert "no_such_table" in capfd.readouterr().err


def test_dbshell_without_psql_is_one_line_and_exit_1(
    cli_env: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(dbshell, "_bundled_psql", lambda: None)

    status = cli.main(["dbshell"])

    assert status == 1
    assert capsys.readouterr().err == (
        "error: no psql found: install the PostgreSQL client (psql) and put it on PATH\n"
    )


def test_the_embedded_database_gets_the_psql_shipped_with_its_server() -> None:
    bundled = dbshell._bundled_psql()
    assert bundled is not None

    assert dbshell.find_psql(embedded=True) == str(bundled)


def test_the_password_goes_in_the_environment_not_on_the_command_line() -> None:
    argv, env = dbshell.psql_command(
        "psql", "postgresql://portal:s%40cret@db.example:5432/portal?sslmode=require", ["-c", "x"]
    )

    assert argv == ["psql", "postgresql://portal@db.example:5432/portal?sslmode=require", "-c", "x"]
    assert env == {"PGPASSWORD": "s@cret"}
