"""``python -m portal shell``: statements piped into a real shell process, as a user types them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import cast

import psycopg2
import pytest
import sqlalchemy as sa

from portal.platform.commands.shell import _namespace
from portal.platform.db.engine import Connection
from tests.test_cli import REPO

#: Each statement prints a marker, so the output is read without the prompts.
STATEMENTS = """\
n = await conn.scalar(sa.select(sa.func.count()).select_from(question))
print("questions:", n)
await conn.execute(todo.insert().values(name="added in the shell"))
print("users table:", users.name, tables["admin_log"].name)
"""


def shell_env(database: str, data_dir: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    return {**base, "PORTAL_DATABASE_URL": database, "PORTAL_DATA_DIR": str(data_dir)}


def shell(database: str, data_dir: Path, stdin: str) -> subprocess.CompletedProcess[str]:
    """``python -m portal shell`` with *stdin* piped in, to its end."""
    return subprocess.run(
        [sys.executable, "-m", "portal", "shell"],
        input=stdin,
        env=shell_env(database, data_dir),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def sql(url: str, statement: str) -> list[tuple[object, ...]]:
    conn = psycopg2.connect(url)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(statement)
            return list(cur.fetchall()) if cur.description else []
    finally:
        conn.close()


def test_shell_awaits_statements_on_the_database_with_every_table_as_a_name(
    clean_db: str, tmp_path: Path
) -> None:
    sql(
        clean_db, "INSERT INTO question (question_text, pub_date) VALUES ('a', now()), ('b', now())"
    )

    result = shell(clean_db, tmp_path, STATEMENTS)

    assert result.returncode == 0, result.stderr
    assert "questions: 2" in result.stdout
    assert "users table: users admin_log" in result.stdout
    assert sql(clean_db, "SELECT name FROM todo") == [("added in the shell",)]


def test_shell_banner_says_what_is_loaded(clean_db: str, tmp_path: Path) -> None:
    result = shell(clean_db, tmp_path, "")

    banner = result.stderr
    assert "use await directly" in banner
    for name in ("conn", "engine", "settings", "tables"):
        assert f"  {name} " in banner
    assert "polls: question, choice" in banner
    assert "todos: todo" in banner
    assert "platform: " in banner
    assert "users" in banner
    # The database is named, its password never.
    assert "database  postgresql://" in banner


def test_an_error_shows_its_traceback_and_the_shell_goes_on(clean_db: str, tmp_path: Path) -> None:
    result = shell(clean_db, tmp_path, "1/0\nprint('still here')\n")

    assert result.returncode == 0
    assert "still here" in result.stdout
    assert 'File "<console>", line 1' in result.stderr
    assert "ZeroDivisionError: division by zero" in result.stderr
    # Only the user's own frames: none of the shell's machinery.
    assert "concurrent" not in result.stderr


def test_ctrl_c_cancels_the_awaited_statement_not_the_shell(clean_db: str, tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "portal", "shell"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=shell_env(clean_db, tmp_path),
        cwd=REPO,
        text=True,
    )
    try:
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write('print("waiting", flush=True); await asyncio.sleep(60)\n')
        process.stdin.flush()
        assert "waiting" in process.stdout.readline()

        process.send_signal(signal.SIGINT)
        out, err = process.communicate("print('after')\n", timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert process.returncode == 0
    assert "KeyboardInterrupt" in err
    assert "after" in out


@pytest.mark.parametrize("name", ["settings", "conn"])
def test_a_table_never_hides_a_shell_name(name: str) -> None:
    clash = sa.Table(name, sa.MetaData(), sa.Column("id", sa.Integer))

    namespace, hidden = _namespace(
        "SETTINGS", "ENGINE", cast(Connection, "CONN"), (), {"app": {name: clash}}
    )

    assert namespace[name] in ("SETTINGS", "CONN")
    assert namespace["tables"][name] is clash
    assert hidden == [name]
