"""``migrate APP REVISION``: one app's branch down (to zero too) and up again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from portal import cli
from portal.platform.db.schema import applied_revisions, migrate_branch, upgrade
from tests.conftest import INSTALLED_APPS
from tests.databases import public_tables, query, revisions, scratch_database


@pytest.fixture
def migrated(database_url: str) -> Iterator[str]:
    """A database of this test's own on the session's server, at every head; dropped after."""
    with scratch_database(database_url, "portal_migrate") as url:
        upgrade(url, INSTALLED_APPS)
        yield url


def test_polls_to_zero_drops_only_its_tables_and_back_up_restores_them(migrated: str) -> None:
    # Every installed app's head: an app added to the project changes nothing here.
    heads = revisions(migrated)
    assert {"platform_0008", "polls_0003", "todos_0003"} <= heads

    assert migrate_branch(migrated, INSTALLED_APPS, "polls", "zero") == (
        "polls is at zero: its revisions are unapplied."
    )
    assert not {"question", "choice"} & public_tables(migrated)
    assert {"users", "todo"} <= public_tables(migrated)
    assert revisions(migrated) == heads - {"polls_0003"}

    assert migrate_branch(migrated, INSTALLED_APPS, "polls", None) == (
        "polls is migrated up to polls_0003."
    )
    assert {"question", "choice"} <= public_tables(migrated)
    assert revisions(migrated) == heads


def test_todos_to_zero_and_back(migrated: str) -> None:
    heads = revisions(migrated)
    migrate_branch(migrated, INSTALLED_APPS, "todos", "zero")
    assert "todo" not in public_tables(migrated)
    assert {"question", "users"} <= public_tables(migrated)

    migrate_branch(migrated, INSTALLED_APPS, "todos", "todos_0003")
    assert "todo" in public_tables(migrated)
    assert revisions(migrated) == heads


def test_polls_down_one_revision_keeps_its_rows_and_drops_its_trigger(migrated: str) -> None:
    query(migrated, "INSERT INTO question (question_text, pub_date) VALUES ('Kept?', now())")

    assert migrate_branch(migrated, INSTALLED_APPS, "polls", "0001") == (
        "polls is migrated down to polls_0001."
    )
    assert query(migrated, "SELECT question_text FROM question") == [("Kept?",)]
    assert query(migrated, "SELECT tgname FROM pg_trigger WHERE tgname = 'choice_notify'") == []

    migrate_branch(migrated, INSTALLED_APPS, "polls", "polls_0002_notify")
    assert query(migrated, "SELECT question_text FROM question") == [("Kept?",)]
    assert query(migrated, "SELECT tgname FROM pg_trigger WHERE tgname = 'choice_notify'") != []


_FILTER_INDEXES = (
    "SELECT indexname FROM pg_indexes WHERE indexname IN "
    "('todo_finished_id_idx', 'todo_name_trigrams_idx', "
    "'question_pub_date_id_idx', 'question_text_trigrams_idx') ORDER BY indexname"
)


def test_the_list_filter_indexes_come_and_go_with_their_revisions(migrated: str) -> None:
    every = query(migrated, _FILTER_INDEXES)
    migrate_branch(migrated, INSTALLED_APPS, "todos", "todos_0002")
    migrate_branch(migrated, INSTALLED_APPS, "polls", "polls_0002")
    assert query(migrated, _FILTER_INDEXES) == []
    # polls_0003 replaced the index on pub_date alone, which comes back.
    assert query(migrated, "SELECT 1 FROM pg_indexes WHERE indexname = 'question_pub_date_idx'")

    migrate_branch(migrated, INSTALLED_APPS, "todos", None)
    migrate_branch(migrated, INSTALLED_APPS, "polls", None)
    assert len(every) == 4
    assert query(migrated, _FILTER_INDEXES) == every


def test_todos_down_one_revision_keeps_its_rows(migrated: str) -> None:
    query(migrated, "INSERT INTO todo (name) VALUES ('kept')")

    migrate_branch(migrated, INSTALLED_APPS, "todos", "todos_0001")
    assert query(migrated, "SELECT name FROM todo") == [("kept",)]
    assert "todos_0002" not in applied_revisions(migrated, INSTALLED_APPS)

    migrate_branch(migrated, INSTALLED_APPS, "todos", None)
    assert query(migrated, "SELECT name FROM todo") == [("kept",)]


def test_a_branch_already_there_is_left_alone(migrated: str) -> None:
    assert migrate_branch(migrated, INSTALLED_APPS, "todos", "todos_0003") == (
        "todos is already at todos_0003."
    )


def test_migrate_app_revision_from_the_command_line(
    migrated: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PORTAL_DATABASE_URL", migrated)

    assert cli.main(["migrate", "polls", "zero"]) == 0
    assert "question" not in public_tables(migrated)
    assert cli.main(["migrate", "polls"]) == 0
    assert "question" in public_tables(migrated)
    assert capsys.readouterr().out.splitlines() == [
        "polls is at zero: its revisions are unapplied.",
        "polls is migrated up to polls_0003.",
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["migrate", "nosuch", "zero"], "error: no installed app is named 'nosuch' (installed: "),
        (["migrate", "api", "zero"], "error: app 'api' has no tables, so no migrations"),
        (
            ["migrate", "polls", "polls_0009"],
            "error: polls has no revision 'polls_0009' "
            "(it has: polls_0001, polls_0002, polls_0003, zero)",
        ),
    ],
)
def test_a_mistake_is_one_line_and_exit_1(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(argv) == 1

    err = capsys.readouterr().err
    assert err.startswith(message)
    assert err.count("\n") == 1
