"""``showmigrations``: every app's revisions, oldest first, marked applied or not."""

from __future__ import annotations

import pytest

from portal import cli
from portal.platform.db.revisions import PLATFORM_VERSIONS, read_revisions
from portal.platform.db.schema import migrate_branch
from tests.conftest import INSTALLED_APPS
from tests.platform.test_migrate_app import migrated

__all__ = ["migrated"]


def test_every_app_is_listed_with_what_the_database_has(
    migrated: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    migrate_branch(migrated, INSTALLED_APPS, "polls", "polls_0001")
    migrate_branch(migrated, INSTALLED_APPS, "todos", "zero")
    monkeypatch.setenv("PORTAL_DATABASE_URL", migrated)

    assert cli.main(["showmigrations"]) == 0

    folders = {"platform": PLATFORM_VERSIONS, **{s.name: s.migrations for s in INSTALLED_APPS}}
    revisions = {name: read_revisions(folder) if folder else [] for name, folder in folders.items()}
    unapplied = {rev.id for rev in [*revisions["polls"][1:], *revisions["todos"]]}
    expected = []
    for name, listed in revisions.items():
        expected.append(name)
        expected += [f" [{' ' if r.id in unapplied else 'X'}] {r.name}" for r in listed] or [
            " (no migrations)"
        ]
    lines = capsys.readouterr().out.splitlines()
    assert lines == expected
    assert lines[lines.index("polls") + 1 :][:2] == [
        " [X] polls_0001_initial",
        " [ ] polls_0002_notify",
    ]
    assert lines[lines.index("todos") + 1] == " [ ] todos_0001_initial"


def test_one_app(
    migrated: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PORTAL_DATABASE_URL", migrated)

    assert cli.main(["showmigrations", "todos"]) == 0

    assert capsys.readouterr().out == (
        "todos\n [X] todos_0001_initial\n [X] todos_0002_notify\n [X] todos_0003_list_filters\n"
    )


def test_an_unknown_app_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["showmigrations", "nosuch"]) == 1

    assert capsys.readouterr().err.startswith("error: no installed app is named 'nosuch'")
