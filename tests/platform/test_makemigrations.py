"""``makemigrations``: each app's next revision from its tables, on a throwaway database.

Every test works on an app of its own in a temporary folder, never on the
repository's migration folders, and on scratch databases of the session's server.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
import sqlalchemy as sa
from aiohttp import web
from yarl import URL

from portal import cli
from portal.apps import polls
from portal.platform.appspec import AppSpec
from portal.platform.commands.makemigrations import (
    Change,
    differences,
    make_migration,
    scratch_database,
)
from portal.platform.db.schema import branches, find_branch
from portal.platform.policy import HTML_SITE
from portal.settings import Settings

INITIAL = '''"""Notes.

Revision ID: notes_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "notes_0001"
down_revision = None
branch_labels = ("notes",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "note",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_table("tag", sa.Column("id", sa.Integer, primary_key=True))


def downgrade() -> None:
    op.drop_table("tag")
    op.drop_table("note")
'''

#: What the app's module says, for the tests that install it through settings.
MODULE = """
from pathlib import Path

import sqlalchemy as sa
from aiohttp import web
from yarl import URL

from portal.platform.policy import HTML_SITE
from portal.platform.appspec import AppSpec

metadata = sa.MetaData()
sa.Table(
    "note",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
    {extra}
)
sa.Table("tag", metadata, sa.Column("id", sa.Integer, primary_key=True))
spec = AppSpec(
    "notes", "Notes", "", lambda settings: web.Application(), HTML_SITE,
    migrations=Path(__file__).parent / "migrations", metadata=metadata,
)
"""


def notes_spec(
    folder: Path, *columns: sa.Column, tag: bool = True, text: sa.Column | None = None
) -> AppSpec:
    """A "notes" app whose revisions are in *folder*: a note table (with *columns*), a tag table."""
    metadata = sa.MetaData()
    sa.Table(
        "note",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        text if text is not None else sa.Column("text", sa.Text, nullable=False),
        *columns,
    )
    if tag:
        sa.Table("tag", metadata, sa.Column("id", sa.Integer, primary_key=True))
    return AppSpec(
        "notes",
        "Notes",
        "",
        lambda settings: web.Application(),
        HTML_SITE,
        migrations=folder,
        metadata=metadata,
    )


def header(path: Path) -> dict[str, object]:
    """The module-level assignments of a revision file."""
    values: dict[str, object] = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            values[node.targets[0].id] = ast.literal_eval(node.value)
    return values


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings on the session's server: scratch databases are made beside the test one."""
    return Settings(database_url=database_url, data_dir=tmp_path / "data")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The notes app's migrations folder, holding its first revision."""
    path = tmp_path / "migrations"
    path.mkdir()
    (path / "notes_0001_initial.py").write_text(INITIAL)
    return path


def changes(settings: Settings, specs: list[AppSpec], app: str = "notes") -> list[Change]:
    with scratch_database(settings) as url:
        return differences(url, specs, [find_branch(specs, app)])[app].changes


def test_a_new_app_gets_its_first_revision_on_a_branch_of_its_own(
    settings: Settings, tmp_path: Path
) -> None:
    specs = [polls.spec, notes_spec(tmp_path / "migrations")]
    branch = find_branch(specs, "notes")

    with scratch_database(settings) as url:
        drift = differences(url, specs, [branch])["notes"]
        path = make_migration(url, specs, branch, drift, None)

    # Only its own tables: the platform's and polls' in the database are not notes' changes.
    assert drift.changes == [
        Change("create table note", "create note"),
        Change("create table tag", "create tag"),
    ]
    assert path == tmp_path / "migrations" / "notes_0001_initial.py"
    assert header(path) == {
        "revision": "notes_0001",
        "down_revision": None,
        "branch_labels": ("notes",),
        "depends_on": None,
    }
    assert changes(settings, specs) == []


def test_a_first_revision_depends_on_the_platform_when_its_tables_refer_to_users(
    settings: Settings, tmp_path: Path
) -> None:
    owner = sa.Column("owner_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False)
    specs = [notes_spec(tmp_path / "migrations", owner)]
    branch = find_branch(specs, "notes")

    with scratch_database(settings) as url:
        path = make_migration(url, specs, branch, differences(url, specs, [branch])["notes"], None)

    assert header(path)["depends_on"] == "platform_0008"
    assert changes(settings, specs) == []


def test_a_new_column_is_the_next_revision_named_after_it(settings: Settings, folder: Path) -> None:
    specs = [notes_spec(folder, sa.Column("due_date", sa.Date, nullable=True))]
    branch = find_branch(specs, "notes")

    with scratch_database(settings) as url:
        drift = differences(url, specs, [branch])["notes"]
        path = make_migration(url, specs, branch, drift, None)

    assert drift.changes == [Change("add column note.due_date", "add due_date")]
    assert path.name == "notes_0002_add_due_date.py"
    assert header(path)["revision"] == "notes_0002"
    assert header(path)["down_revision"] == "notes_0001"
    assert "op.add_column" in path.read_text()
    assert changes(settings, specs) == []


def test_a_written_revision_is_in_the_house_format(settings: Settings, folder: Path) -> None:
    specs = [notes_spec(folder, sa.Column("due_date", sa.Date, nullable=True))]
    branch = find_branch(specs, "notes")

    with scratch_database(settings) as url:
        path = make_migration(url, specs, branch, differences(url, specs, [branch])["notes"], None)

    ruff = [sys.executable, "-m", "ruff"]
    assert subprocess.run([*ruff, "format", "--check", str(path)], check=False).returncode == 0
    assert subprocess.run([*ruff, "check", str(path)], check=False).returncode == 0
    assert "please adjust" not in path.read_text()


def test_a_changed_column_is_named_with_what_changed(settings: Settings, folder: Path) -> None:
    spec = notes_spec(folder, text=sa.Column("text", sa.String(200), nullable=True))

    assert changes(settings, [spec]) == [
        Change("alter column note.text (type, nullable)", "alter text")
    ]


def test_a_table_gone_from_the_tables_is_dropped_by_the_next_revision(
    settings: Settings, folder: Path
) -> None:
    assert changes(settings, [notes_spec(folder, tag=False)]) == [
        Change("drop table tag", "drop tag")
    ]


def test_the_scratch_database_is_dropped_afterwards(settings: Settings, database_url: str) -> None:
    with scratch_database(settings) as url:
        name = URL(url).path.strip("/")

    conn = psycopg2.connect(database_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            assert cur.fetchone() is None
    finally:
        conn.close()


def test_the_platform_is_a_branch_of_its_own_with_its_tables() -> None:
    platform = branches([])[0]

    assert platform.name == "platform"
    assert platform.metadata is not None
    assert {"users", "api_tokens", "login_failures", "admin_log"} <= set(platform.metadata.tables)


# The command line


@pytest.fixture
def installed(settings: Settings, folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Install only a notes app whose module is in a temporary folder; its module's path."""
    package = folder.parent
    name = f"notes_{uuid.uuid4().hex[:8]}"
    module = package / f"{name}.py"
    module.write_text(MODULE.format(extra=""))
    monkeypatch.syspath_prepend(str(package))
    monkeypatch.setenv("PORTAL_DATABASE_URL", str(settings.database_url))
    monkeypatch.setenv("PORTAL_INSTALLED_APPS", name)
    yield module
    sys.modules.pop(name, None)


def test_no_changes_in_an_app_says_so_and_writes_nothing(
    installed: Path, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["makemigrations", "notes"]) == 0

    assert capsys.readouterr().out == "No changes in notes.\n"
    assert [path.name for path in folder.iterdir()] == ["notes_0001_initial.py"]


def test_check_names_the_app_and_each_change_and_writes_nothing(
    installed: Path, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    installed.write_text(MODULE.format(extra='sa.Column("due_date", sa.Date),'))

    assert cli.main(["makemigrations", "notes", "--check"]) == 1

    out, err = capsys.readouterr()
    assert out == "notes: add column note.due_date\n"
    assert "notes differ from their migrations" in err
    assert [path.name for path in folder.iterdir()] == ["notes_0001_initial.py"]


def test_check_passes_when_the_tables_match(
    installed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["makemigrations", "notes", "--check"]) == 0

    assert capsys.readouterr().out == "No changes.\n"


def test_the_message_names_the_file(
    installed: Path, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    installed.write_text(MODULE.format(extra='sa.Column("due_date", sa.Date),'))

    assert cli.main(["makemigrations", "notes", "-m", "Notes fall due"]) == 0

    written = folder / "notes_0002_notes_fall_due.py"
    assert capsys.readouterr().out.splitlines() == [
        f"notes: wrote {written}",
        "  - add column note.due_date",
    ]
    assert header(written)["down_revision"] == "notes_0001"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["makemigrations", "nosuch"], "error: no installed app is named 'nosuch' (installed: "),
        (["makemigrations", "api"], "error: app 'api' has no tables, so no migrations"),
        (["makemigrations", "admin", "--check"], "error: app 'admin' has no tables"),
    ],
)
def test_a_mistake_is_one_line_and_exit_1(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(argv) == 1

    err = capsys.readouterr().err
    assert err.startswith(message)
    assert err.count("\n") == 1
