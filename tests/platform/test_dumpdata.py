"""``dumpdata`` and ``loaddata``: ordered JSON out, one all-or-nothing transaction in."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from yarl import URL

from portal import cli
from portal.platform.db import embedded
from portal.testing import migrated_database, truncate_all
from tests.conftest import INSTALLED_APPS
from tests.servers import ROOT

PLATFORM_TABLES = {
    "platform.users",
    "platform.api_tokens",
    "platform.admin_log",
    "platform.login_failures",
}


@pytest.fixture
def cli_db(monkeypatch: pytest.MonkeyPatch, clean_db: str) -> str:
    """Point the CLI at the clean test database, and at nothing else."""
    for name in ("PORTAL_CONFIG", "PORTAL_DEBUG", "PORTAL_SECRET_KEY", "PORTAL_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORTAL_DATABASE_URL", clean_db)
    return clean_db


@pytest.fixture(scope="module")
def second_database(database_url: str) -> str:
    """A migrated database of this module's own beside the session's, for round trips."""
    return migrated_database(database_url, "portal_dumpdata")


def sql(url: str, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run one statement on *url* (committed); its rows, if any."""
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def dumpdata(tmp_path: Path, *names: str) -> bytes:
    """``dumpdata *names`` into a file; its bytes."""
    out = tmp_path / f"dump{len(list(tmp_path.iterdir()))}.json"
    assert cli.main(["dumpdata", *names, "-o", str(out)]) == 0
    return out.read_bytes()


def records(dump: bytes) -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = json.loads(dump)
    return loaded


def loaddata(tmp_path: Path, content: Any) -> int:
    """``loaddata`` a file holding *content* as JSON; the exit status."""
    source = tmp_path / "load.json"
    source.write_text(json.dumps(content), encoding="utf-8")
    return cli.main(["loaddata", str(source)])


def todo(id: int, name: str, finished: bool = False) -> dict[str, Any]:
    return {"table": "todos.todo", "fields": {"id": id, "name": name, "finished": finished}}


def fill(url: str) -> None:
    """Sample data, and a row in each platform table with the awkward values."""
    assert cli.main(["seed"]) == 0
    sql(url, "INSERT INTO todo (name) VALUES (%s)", ("café ☕ 日本",))
    sql(
        url,
        "INSERT INTO users (username, password_hash, is_staff, date_joined, last_login) "
        "VALUES (%s, %s, true, %s, %s), (%s, %s, false, %s, NULL)",
        ("zoë", "$argon2id$v=19$hash", "2026-01-02 03:04:05.000006+05:30",
         "2026-03-04 05:06:07.000089+02", "bob", "$argon2id$v=19$other",
         "2026-01-01 00:00:00+00"),
    )  # fmt: skip
    sql(
        url,
        "INSERT INTO api_tokens (user_id, name, token_hash) "
        "SELECT id, 'ci', repeat('a', 64) FROM users WHERE username = 'zoë'",
    )
    sql(
        url,
        "INSERT INTO admin_log (user_id, username, app, table_name, row_id, action, changes, "
        "summary) SELECT id, username, 'polls', 'question', 1, 'change', %s, 'Qué?' "
        "FROM users WHERE username = 'zoë'",
        (json.dumps({"question_text": ["old", "nüevo"], "ratio": 0.1, "none": None}),),
    )
    sql(url, "INSERT INTO login_failures (account, address) VALUES ('zoë', '192.0.2.1')")


def test_a_round_trip_into_an_empty_database_gives_the_same_bytes(
    cli_db: str, second_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(cli_db)
    first = dumpdata(tmp_path)
    truncate_all(second_database)
    monkeypatch.setenv("PORTAL_DATABASE_URL", second_database)

    assert cli.main(["loaddata", str(tmp_path / "dump0.json")]) == 0

    assert dumpdata(tmp_path) == first
    labels = {record["table"] for record in records(first)}
    assert labels >= PLATFORM_TABLES | {"polls.question", "polls.choice", "todos.todo"}


def test_without_names_every_installed_apps_tables_and_the_platforms_are_dumped(
    cli_db: str, tmp_path: Path
) -> None:
    fill(cli_db)

    labels = {record["table"] for record in records(dumpdata(tmp_path))}

    expected = {
        f"{spec.name}.{name}"
        for spec in INSTALLED_APPS
        if spec.metadata is not None
        for name in spec.metadata.tables
    }
    assert labels == expected | PLATFORM_TABLES


def test_rows_come_by_primary_key_and_tables_after_those_they_reference(
    cli_db: str, tmp_path: Path
) -> None:
    assert cli.main(["seed"]) == 0
    # An update moves the row to the end of the heap: a plain SELECT would list it last.
    sql(cli_db, "UPDATE question SET question_text = question_text || '!' WHERE id = 1")
    sql(cli_db, "UPDATE choice SET votes = 3 WHERE id = 1")

    dumped = records(dumpdata(tmp_path, "polls"))

    tables = [record["table"] for record in dumped]
    assert tables == sorted(tables, key=["polls.question", "polls.choice"].index)
    for label in ("polls.question", "polls.choice"):
        ids = [record["fields"]["id"] for record in dumped if record["table"] == label]
        assert ids == sorted(ids)
    assert all(list(record) == ["fields", "table"] for record in dumped)
    assert all(list(record["fields"]) == sorted(record["fields"]) for record in dumped)


def test_values_keep_their_types_offsets_microseconds_and_unicode(
    cli_db: str, tmp_path: Path
) -> None:
    fill(cli_db)

    dump = dumpdata(tmp_path, "platform.users", "platform.admin_log", "todos")

    assert "café ☕ 日本".encode() in dump
    users = {
        r["fields"]["username"]: r["fields"]
        for r in records(dump)
        if r["table"] == "platform.users"
    }
    assert users["zoë"]["last_login"] == "2026-03-04T03:06:07.000089+00:00"
    assert users["zoë"]["date_joined"] == "2026-01-01T21:34:05.000006+00:00"
    assert users["zoë"]["is_staff"] is True
    assert users["bob"]["last_login"] is None
    assert isinstance(users["bob"]["id"], int)
    (entry,) = [r["fields"] for r in records(dump) if r["table"] == "platform.admin_log"]
    assert entry["changes"] == {"question_text": ["old", "nüevo"], "ratio": 0.1, "none": None}


def test_dumpdata_writes_to_standard_output(
    cli_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    sql(cli_db, "INSERT INTO todo (name) VALUES ('thé')")

    assert cli.main(["dumpdata", "todos.todo"]) == 0

    assert capsys.readouterr().out == (
        '[\n{"fields": {"finished": false, "id": 1, "name": "thé"}, "table": "todos.todo"}\n]\n'
    )


def test_exclude_leaves_a_table_out(cli_db: str, tmp_path: Path) -> None:
    fill(cli_db)

    labels = {r["table"] for r in records(dumpdata(tmp_path, "--exclude", "platform.users"))}

    assert "platform.users" not in labels
    assert "platform.api_tokens" in labels


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("nosuch", "error: no installed app named 'nosuch'"),
        ("polls.nosuch", "error: app 'polls' has no table 'nosuch'"),
    ],
)
def test_an_unknown_app_or_table_is_one_line_naming_it(
    cli_db: str, capsys: pytest.CaptureFixture[str], name: str, message: str
) -> None:
    assert cli.main(["dumpdata", name]) == 1

    captured = capsys.readouterr()
    assert captured.err.startswith(message)
    assert captured.err.count("\n") == 1
    assert captured.out == ""


def test_a_bad_value_anywhere_writes_nothing_and_names_the_record(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert loaddata(tmp_path, [todo(1, "milk"), todo(2, "eggs"), todo(3, "tea") | {
        "fields": {"id": 3, "name": "tea", "finished": "yes"}
    }]) == 1  # fmt: skip

    assert capsys.readouterr().err == (
        'error: record 3 (todos.todo): finished: expected true or false, got "yes"\n'
    )
    assert sql(cli_db, "SELECT count(*) FROM todo") == [(0,)]


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"table": "todos.nosuch", "fields": {}}, "record 1: unknown table 'todos.nosuch'"),
        (
            {"table": "todos.todo", "fields": {"id": 1, "name": "x", "colour": "red"}},
            "record 1 (todos.todo): unknown column 'colour'",
        ),
        ({"table": "todos.todo", "fields": {"id": 1}}, "record 1 (todos.todo): name is missing"),
        (
            {"table": "todos.todo", "fields": {"id": True, "name": "x"}},
            "record 1 (todos.todo): id: expected an integer, got true",
        ),
        (
            {"table": "todos.todo", "fields": {"id": 1, "name": None}},
            "record 1 (todos.todo): name cannot be null",
        ),
        (
            {"table": "polls.question", "fields": {"id": 1, "question_text": "q",
             "pub_date": "2026-01-01T00:00:00"}},
            "record 1 (polls.question): pub_date: '2026-01-01T00:00:00' has no UTC offset",
        ),
        ({"todo": {}}, 'record 1: expected {"table": "app.table", "fields": {...}}'),
    ],
)  # fmt: skip
def test_a_record_that_does_not_fit_its_table_is_refused_before_loading(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], record: Any, reason: str
) -> None:
    assert loaddata(tmp_path, [record]) == 1

    assert capsys.readouterr().err == f"error: {reason}\n"


def test_a_file_that_is_not_a_dump_is_refused(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "load.json"
    source.write_text('[{"table": ', encoding="utf-8")

    assert cli.main(["loaddata", str(source)]) == 1

    assert capsys.readouterr().err.startswith("error: not JSON: ")


def test_a_key_given_twice_in_the_file_is_refused(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert loaddata(tmp_path, [todo(1, "milk"), todo(1, "eggs")]) == 1

    assert capsys.readouterr().err == (
        "error: record 2 (todos.todo id=1): duplicate key, record 1 has the same\n"
    )


def test_a_missing_foreign_key_rolls_back_every_record_and_is_named(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    question = {
        "table": "polls.question",
        "fields": {"id": 1, "question_text": "Why?", "pub_date": "2026-01-01T00:00:00+00:00"},
    }
    orphan = {
        "table": "polls.choice",
        "fields": {"id": 5, "question_id": 99, "choice_text": "No", "votes": 0},
    }

    assert loaddata(tmp_path, [orphan, question]) == 1

    err = capsys.readouterr().err
    assert err.startswith("error: record 1 (polls.choice id=5): ")
    assert "foreign key" in err
    assert "(question_id)=(99)" in err
    assert sql(cli_db, "SELECT count(*) FROM question") == [(0,)]


def test_a_unique_value_taken_by_another_row_is_named(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sql(cli_db, "INSERT INTO todo (id, name) VALUES (1, 'milk')")

    assert loaddata(tmp_path, [todo(2, "eggs"), todo(3, "milk")]) == 1

    err = capsys.readouterr().err
    assert err.startswith("error: record 2 (todos.todo id=3): duplicate key value")
    assert sql(cli_db, "SELECT id, name FROM todo") == [(1, "milk")]


def test_a_row_whose_key_exists_is_updated(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sql(cli_db, "INSERT INTO todo (id, name) VALUES (1, 'milk'), (2, 'eggs')")

    assert loaddata(tmp_path, [todo(1, "oat milk", finished=True), todo(3, "tea")]) == 0

    assert sql(cli_db, "SELECT id, name, finished FROM todo ORDER BY id") == [
        (1, "oat milk", True),
        (2, "eggs", False),
        (3, "tea", False),
    ]
    assert capsys.readouterr().out.endswith(
        "Loaded 2 record(s) into 1 table(s): 1 new, 1 updated.\n"
    )


def test_after_loading_the_next_id_is_past_the_largest_loaded(cli_db: str, tmp_path: Path) -> None:
    assert loaddata(tmp_path, [todo(7, "milk"), todo(3, "eggs")]) == 0

    assert sql(cli_db, "INSERT INTO todo (name) VALUES ('tea') RETURNING id") == [(8,)]


def test_a_dash_reads_standard_input(cli_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = json.dumps([todo(1, "thé")], ensure_ascii=False).encode()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))

    assert cli.main(["loaddata", "-"]) == 0

    assert sql(cli_db, "SELECT name FROM todo") == [("thé",)]


def test_a_database_not_migrated_is_named_and_leaves_no_file(
    cli_db: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    embedded.ensure_database(cli_db, "portal_dumpdata_bare")
    source = URL(cli_db)
    bare = source.with_path("/portal_dumpdata_bare").with_query(source.query)
    monkeypatch.setenv("PORTAL_DATABASE_URL", str(bare))
    out = tmp_path / "dump.json"

    assert cli.main(["dumpdata", "todos", "-o", str(out)]) == 1

    assert capsys.readouterr().err == "error: table todos.todo does not exist: run migrate\n"
    assert list(tmp_path.iterdir()) == []


def test_standard_output_is_utf8_whatever_the_locale(cli_db: str) -> None:
    sql(cli_db, "INSERT INTO todo (name) VALUES ('thé ☕')")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "LC_", "LANG"))}
    # An ASCII-only standard output, as under a bare C locale in a container.
    env |= {"PORTAL_DATABASE_URL": cli_db, "PYTHONIOENCODING": "ascii", "LC_ALL": "C"}

    result = subprocess.run(
        [sys.executable, "-m", "portal", "dumpdata", "todos"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "thé ☕".encode() in result.stdout


def test_only_installed_apps_tables_are_dumped(
    cli_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(cli_db)
    monkeypatch.setenv("PORTAL_INSTALLED_APPS", "portal.apps.polls")

    labels = {record["table"] for record in records(dumpdata(tmp_path))}

    assert labels == PLATFORM_TABLES | {"polls.question", "polls.choice"}
    assert cli.main(["dumpdata", "todos"]) == 1
