"""``makemigrations``: write each app's next revision from its tables, as Django does.

Alembic's autogenerate compares tables with a database, so the command makes
a throwaway one on the configured server (the embedded PostgreSQL when no URL
is set), migrates it to every branch's head, compares, and drops it: the
developer's own database is never read or changed. Each app is compared with
only its own tables — those in its ``AppSpec.metadata`` and those its own
revisions created — so one app's change never lands in another's branch.
"""

from __future__ import annotations

import argparse
import logging
import re
import secrets
import shutil
import subprocess
import sys
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
import sqlalchemy as sa
from psycopg2 import sql
from yarl import URL

from portal.platform.appspec import AppSpec
from portal.platform.commands.base import Command, CommandError, command_settings, installed_apps
from portal.platform.db.schema import Branch, alembic_config, branches, find_branch
from portal.settings import Settings

__all__ = ["Change", "Drift", "command", "differences", "make_migration", "scratch_database"]

#: Alembic's own bookkeeping table belongs to no app.
_VERSION_TABLE = "alembic_version"


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between an app's tables and its migrations."""

    #: What a new revision would do, in a line: ``add column todo.due_date``.
    text: str
    #: A few words for the revision's file name: ``add due_date``.
    title: str


@dataclass(frozen=True, slots=True)
class Drift:
    """How one app's tables differ from what its migrations make."""

    changes: list[Change]
    #: The tables its revisions made, those it no longer declares included.
    owned: frozenset[str]


@contextmanager
def scratch_database(settings: Settings) -> Iterator[str]:
    """A new empty database on the configured server, dropped on exit; its URL.

    With no database URL configured that is the embedded PostgreSQL, stopped
    again afterwards if this call had to start it.
    """
    from portal.platform.db import embedded

    name = f"portal_scratch_{secrets.token_hex(6)}"
    started = False
    if settings.database_url is not None:
        admin = settings.database_url
        embedded.ensure_database(admin, name)
        url = _beside(admin, name)
    else:
        server = embedded.ensure_running(settings.data_dir, name)
        url, started = server.url, server.started
        admin = _beside(url, "postgres")
    try:
        yield url
    finally:
        try:
            _drop_database(admin, name)
        finally:
            if started:
                embedded.stop(settings.data_dir)


def differences(url: str, specs: Sequence[AppSpec], chosen: Iterable[Branch]) -> dict[str, Drift]:
    """Migrate the empty database at *url* to every head; each chosen app's drift."""
    owners = _migrate_recording_owners(url, specs)
    found = {}
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            for branch in chosen:
                owned = frozenset(owners.get(branch.name, ()))
                diffs = _compare(conn, branch, owned, specs)
                found[branch.name] = Drift([_describe(diff) for diff in diffs], owned)
    finally:
        engine.dispose()
    return found


def make_migration(
    url: str, specs: Sequence[AppSpec], branch: Branch, drift: Drift, message: str | None
) -> Path:
    """Write *branch*'s next revision for its *drift*; the database at *url* is at every head.

    The database is then brought to the new head too, so the next app's
    revision can be made on it.
    """
    from alembic import command

    revisions = branch.revisions()
    number = 1 + max((_number(branch.name, rev.id) for rev in revisions), default=0)
    first = not revisions
    if message is None:
        message = "initial" if first else _title(drift.changes)
    branch.folder.mkdir(parents=True, exist_ok=True)
    cfg = alembic_config(url, specs)
    # The command says what it wrote; Alembic's own "Generating …" would repeat it.
    cfg.cmd_opts = argparse.Namespace(quiet=True)
    cfg.attributes["compare"] = _options(branch, drift.owned, specs)
    with _expression_indexes_skipped():
        script = command.revision(
            cfg,
            message=message,
            autogenerate=True,
            rev_id=f"{branch.name}_{number:04d}",
            head="base" if first else revisions[-1].id,
            branch_label=branch.name if first else None,
            version_path=str(branch.folder),
            # A list, as Alembic's own --depends-on passes it; its annotation says str.
            depends_on=_depends_on(branch, specs) if first else None,  # type: ignore[arg-type]
        )
    if script is None or isinstance(script, list):
        raise CommandError(f"{branch.name}: Alembic wrote no single revision")
    path = Path(script.path)
    _tidy(path)
    command.upgrade(alembic_config(url, specs), "heads")
    return path


def _makemigrations(args: argparse.Namespace) -> int:
    settings = command_settings(args)
    specs = installed_apps(settings)
    if args.app is not None:
        chosen = [find_branch(specs, args.app)]
        if chosen[0].metadata is None:
            raise CommandError(f"app {args.app!r} declares no tables (AppSpec.metadata)")
    else:
        chosen = [branch for branch in branches(specs) if branch.metadata is not None]
    with scratch_database(settings) as url, _quiet("alembic"):
        found = differences(url, specs, chosen)
        if args.check:
            return _report(found)
        for branch in chosen:
            drift = found[branch.name]
            if not drift.changes:
                print(f"No changes in {branch.name}.")
                continue
            path = make_migration(url, specs, branch, drift, args.message)
            print(f"{branch.name}: wrote {_shown(path)}")
            for change in drift.changes:
                print(f"  - {change.text}")
    return 0


@contextmanager
def _quiet(name: str) -> Iterator[None]:
    """Only warnings from logger *name*: the scratch database's steps are no news."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _report(found: dict[str, Drift]) -> int:
    drifted = [name for name, drift in found.items() if drift.changes]
    if not drifted:
        print("No changes.")
        return 0
    for name in drifted:
        for change in found[name].changes:
            print(f"{name}: {change.text}")
    print(
        f"The tables of {', '.join(drifted)} differ from their migrations: "
        "run `python -m portal makemigrations`.",
        file=sys.stderr,
    )
    return 1


def _migrate_recording_owners(url: str, specs: Sequence[AppSpec]) -> dict[str, set[str]]:
    """Upgrade one branch after another; which tables each one's revisions made.

    A table an app dropped from its ``tables.py`` is in no metadata, yet its
    migrations still create it: this is how it is known to be that app's.
    """
    from alembic import command

    cfg = alembic_config(url, specs)
    every = branches(specs)
    claimed = {name: branch.name for branch in every for name in _tables(branch)}
    owned: dict[str, set[str]] = {}
    before = _table_names(url)
    for branch in every:
        revisions = branch.revisions()
        if not revisions:
            continue
        command.upgrade(cfg, revisions[-1].id)
        after = _table_names(url)
        # A revision this branch depends on may have made another app's tables.
        owned[branch.name] = {
            name
            for name in after - before
            if name != _VERSION_TABLE and claimed.get(name, branch.name) == branch.name
        }
        before = after
    command.upgrade(cfg, "heads")
    return owned


def _table_names(url: str) -> set[str]:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            return {str(name) for (name,) in cur.fetchall()}
    finally:
        conn.close()


def _tables(branch: Branch) -> set[str]:
    return set() if branch.metadata is None else set(branch.metadata.tables)


def _options(branch: Branch, owned: frozenset[str], specs: Sequence[AppSpec]) -> dict[str, Any]:
    """Alembic's comparison options for *branch*: its tables only."""
    mine = owned | _tables(branch)

    def include_object(
        obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
    ) -> bool:
        # Columns, indexes and constraints are asked about only for included tables.
        return type_ != "table" or name in mine

    return {
        "target_metadata": _every_table(branch, specs),
        "include_object": include_object,
        "compare_type": True,
        "compare_server_default": True,
    }


def _every_table(branch: Branch, specs: Sequence[AppSpec]) -> sa.MetaData:
    """One metadata with a copy of every installed table, *branch*'s first.

    An app's table may refer to another's (``ForeignKey("users.id")``) from a
    metadata of its own; Alembic sorts the tables it compares by their foreign
    keys, which must then resolve. Only *branch*'s are compared (:func:`_options`).
    """
    combined = sa.MetaData()
    for source in (branch, *branches(specs)):
        if source.metadata is None:
            continue
        for table in source.metadata.tables.values():
            if table.key not in combined.tables:
                table.to_metadata(combined)
    return combined


def _compare(
    conn: sa.engine.Connection, branch: Branch, owned: frozenset[str], specs: Sequence[AppSpec]
) -> list[Any]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    options = _options(branch, owned, specs)
    context = MigrationContext.configure(conn, opts=options)
    with _expression_indexes_skipped():
        diffs: list[Any] = compare_metadata(context, options["target_metadata"])
    return diffs


@contextmanager
def _expression_indexes_skipped() -> Iterator[None]:
    """Reflection without SQLAlchemy's warning for each index over an expression.

    SQLAlchemy 1.4 cannot reflect such an index (the apps' trigram indexes)
    and skips it, which is right here: one lives in its migration only, so
    autogenerate neither compares it nor proposes to drop it.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "Skipped unsupported reflection of expression-based index", sa.exc.SAWarning
        )
        yield


def _describe(diff: Any) -> Change:
    """One autogenerate difference, in words."""
    if isinstance(diff, list):
        # Changes to one column come as a list of ("modify_…", …) tuples.
        kind, _schema, table, column = diff[0][:4]
        what = ", ".join(item[0].removeprefix("modify_") for item in diff)
        return Change(f"alter column {table}.{column} ({what})", f"alter {column}")
    kind = diff[0]
    if kind in ("add_table", "remove_table"):
        verb = "create" if kind == "add_table" else "drop"
        return Change(f"{verb} table {diff[1].name}", f"{verb} {diff[1].name}")
    if kind in ("add_column", "remove_column"):
        verb = "add" if kind == "add_column" else "drop"
        table, column = diff[2], diff[3]
        return Change(f"{verb} column {table}.{column.name}", f"{verb} {column.name}")
    if kind in ("add_index", "remove_index", "add_constraint", "remove_constraint"):
        verb = "create" if kind.startswith("add") else "drop"
        obj = diff[1]
        noun = "index" if kind.endswith("index") else "constraint"
        columns = ", ".join(column.name for column in obj.columns)
        named = f" {obj.name}" if obj.name else ""
        return Change(
            f"{verb} {noun}{named} on {obj.table.name} ({columns})",
            f"{verb} {obj.name or obj.table.name + ' ' + noun}",
        )
    if kind in ("add_fk", "remove_fk"):
        verb = "add" if kind == "add_fk" else "drop"
        fk = diff[1]
        columns = ", ".join(column.name for column in fk.columns)
        return Change(
            f"{verb} foreign key {fk.table.name} ({columns}) -> {fk.referred_table.name}",
            f"{verb} {fk.table.name} fk",
        )
    return Change(" ".join(str(part) for part in diff), kind)


def _title(changes: Sequence[Change]) -> str:
    """Words for the file name, as Django names its migrations after their operations."""
    titles = list(dict.fromkeys(change.title for change in changes))
    if len(titles) <= 2:
        return " and ".join(titles)
    return f"{titles[0]} and more"


def _number(app: str, revision: str) -> int:
    match = re.fullmatch(rf"{re.escape(app)}_(\d+)", revision)
    return int(match.group(1)) if match else 0


def _depends_on(branch: Branch, specs: Sequence[AppSpec]) -> list[str] | None:
    """The heads of the branches whose tables this app's first tables refer to."""
    if branch.metadata is None:
        return None
    mine = _tables(branch)
    referred = {
        # "users.id" or "schema.users.id": the table is the part before the column.
        fk.target_fullname.split(".")[-2]
        for table in branch.metadata.tables.values()
        for fk in table.foreign_keys
    } - mine
    heads = set()
    for other in branches(specs):
        revisions = other.revisions()
        if other.name != branch.name and revisions and referred & _tables(other):
            heads.add(revisions[-1].id)
    return sorted(heads) or None


def _tidy(path: Path) -> None:
    """Drop Alembic's "please adjust" banners; ruff removes unused imports and formats."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(
        r"\n *# ### (commands auto generated by Alembic - please adjust!|end Alembic commands) ###",
        "",
        text,
    )
    path.write_text(text, encoding="utf-8")
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        return
    # Fixed arguments on a file this command just wrote: no shell, no user input.
    subprocess.run([ruff, "check", "--fix", "--quiet", str(path)], check=False, capture_output=True)  # noqa: S603
    subprocess.run([ruff, "format", "--quiet", str(path)], check=False, capture_output=True)  # noqa: S603


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _beside(url: str, database: str) -> str:
    """*url* naming another database on the same server."""
    source = URL(url)
    # with_path() clears the query, which may hold the server's socket folder.
    return str(source.with_path(f"/{database}").with_query(source.query))


def _drop_database(admin_url: str, name: str) -> None:
    conn = psycopg2.connect(admin_url)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    finally:
        conn.close()


def _arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "app",
        nargs="?",
        metavar="APP",
        help="one app, or 'platform' (default: every app with tables)",
    )
    parser.add_argument(
        "-m", "--message", help="what the revision does, in a few words (they name its file)"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 naming every app whose tables differ from its migrations",
    )


command = Command(
    "makemigrations",
    "write each app's next migration from its tables (Alembic autogenerate)",
    _makemigrations,
    _arguments,
)
