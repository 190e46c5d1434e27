"""``python -m portal routes``: every route of the real tree, with its prefix and policy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from portal import cli
from portal.main import create_app
from portal.settings import Settings
from tests.platform.test_route_inventory import inventory

#: Nothing listens here: listing routes must not need the database.
NO_DATABASE = "postgresql://portal@127.0.0.1:1/portal?connect_timeout=1"


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Settings from defaults only, with a database that does not answer."""
    for name in ("PORTAL_CONFIG", "PORTAL_DEBUG", "PORTAL_SECRET_KEY", "PORTAL_INSTALLED_APPS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORTAL_DATABASE_URL", NO_DATABASE)
    monkeypatch.setenv("PORTAL_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def routes_json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    assert cli.main(["routes", "--json", *args]) == 0
    listed: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    return listed


def test_routes_lists_exactly_the_routes_of_the_real_site(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = create_app(Settings(database_url=NO_DATABASE, secret_key="k" * 40))
    expected = sorted(route.key for route in inventory(site))

    listed = routes_json(capsys)

    assert sorted((route["method"], route["name"]) for route in listed) == expected


def test_routes_show_each_sections_policy_and_the_real_handler(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listed = {(route["method"], route["name"]): route for route in routes_json(capsys)}

    vote = listed[("POST", "polls:vote")]
    assert (vote["path"], vote["auth"], vote["csrf"], vote["errors"]) == (
        "/polls/{question_id}/vote",
        "session",
        True,
        "html",
    )
    assert vote["handler"] == "portal.apps.polls.views.vote"
    # The API's handlers are wrapped: the endpoint's own function is named.
    create = listed[("POST", "api:questions")]
    assert (create["auth"], create["csrf"], create["errors"], create["access"]) == (
        "bearer",
        False,
        "problem",
        "staff",
    )
    assert create["handler"] == "portal.apps.polls.api.create_question"
    assert listed[("GET", "admin:index")]["middlewares"] == ["staff_only"]
    assert listed[("GET", "login")]["path"] == "/login"


def test_routes_follow_a_prefix_moved_in_the_settings(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = cli_env / "portal.yaml"
    config.write_text("apps:\n  polls: /surveys/\n", encoding="utf-8")

    listed = routes_json(capsys, "--config", str(config))

    paths = {route["name"]: route["path"] for route in listed}
    assert paths["polls:detail"] == "/surveys/{question_id}/"
    assert paths["polls:static"] == "/surveys/static/{filename}"


def test_routes_table_has_one_aligned_line_per_route(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    count = len(routes_json(capsys))

    assert cli.main(["routes"]) == 0

    header, *lines = capsys.readouterr().out.splitlines()
    assert header.split() == [
        "METHOD",
        "PATH",
        "NAME",
        "AUTH",
        "CSRF",
        "ERRORS",
        "ACCESS",
        "MIDDLEWARES",
        "HANDLER",
    ]
    assert len(lines) == count
    columns = [header.index(title) for title in ("PATH", "NAME", "AUTH", "HANDLER")]
    for line in lines:
        # Every cell starts under its title, after a gap of spaces.
        assert all(line[at - 1] == " " and line[at] != " " for at in columns), line
    assert any(
        line.split()[:3] == ["POST", "/api/todos/", "api:todos"] and "bearer" in line
        for line in lines
    )
