"""The database layer: the embedded server, migrations and the schema guard at start-up."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from aiohttp import web
from alembic import command
from alembic.script import ScriptDirectory

from portal.main import create_app
from portal.platform.appspec import AppSpec
from portal.platform.db import embedded
from portal.platform.db.engine import connect
from portal.platform.db.revisions import expected_heads
from portal.platform.db.schema import alembic_config, upgrade
from portal.platform.exceptions import ConfigurationError
from portal.platform.policy import HTML_SITE
from portal.settings import Settings
from portal.testing import TEST_SECRET, MakeClient
from tests.conftest import INSTALLED_APPS
from tests.databases import private_data_dir, public_tables, query, revisions, scratch_database


@pytest.fixture
def fresh_database(database_url: str) -> Iterator[str]:
    """The URL of a new, empty database on the session's server; dropped afterwards."""
    with scratch_database(database_url, "portal_fresh") as url:
        yield url


def site_settings(url: str, data_dir: Path) -> Settings:
    return Settings(database_url=url, data_dir=data_dir, secret_key=TEST_SECRET)


async def start_site(app: web.Application) -> web.AppRunner:
    runner = web.AppRunner(app)
    await runner.setup()
    return runner


# Migrations


def test_upgrade_creates_every_table_in_an_empty_database(fresh_database: str) -> None:
    upgrade(fresh_database, INSTALLED_APPS)

    assert {"alembic_version", "users", "question", "choice"} <= public_tables(fresh_database)


def test_upgrade_brings_every_branch_to_its_head(fresh_database: str) -> None:
    upgrade(fresh_database, INSTALLED_APPS)

    assert revisions(fresh_database) == expected_heads(INSTALLED_APPS)
    assert {"platform_0008", "polls_0003", "todos_0003"} <= expected_heads(INSTALLED_APPS)


def test_the_expected_heads_are_alembics_own() -> None:
    script = ScriptDirectory.from_config(alembic_config("", INSTALLED_APPS))

    assert expected_heads(INSTALLED_APPS) == set(script.get_heads())


def test_a_merge_revision_supersedes_both_parents(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text('revision = "a"\ndown_revision = None\n')
    (tmp_path / "b.py").write_text('revision: str = "b"\ndown_revision = None\n')
    (tmp_path / "m.py").write_text('revision = "m"\ndown_revision = ("a", "b")\n')
    spec = AppSpec("x", "X", "", lambda settings: web.Application(), HTML_SITE, tmp_path)

    assert expected_heads([spec]) - expected_heads([]) == {"m"}


def test_upgrade_twice_changes_nothing(fresh_database: str) -> None:
    upgrade(fresh_database, INSTALLED_APPS)
    tables = public_tables(fresh_database)

    upgrade(fresh_database, INSTALLED_APPS)

    assert public_tables(fresh_database) == tables
    assert revisions(fresh_database) == expected_heads(INSTALLED_APPS)


# The schema guard


async def test_site_refuses_to_start_on_an_empty_database(
    fresh_database: str, tmp_path: Path
) -> None:
    runner = web.AppRunner(create_app(site_settings(fresh_database, tmp_path)))
    try:
        with pytest.raises(ConfigurationError, match=r"not up to date.*python -m portal migrate"):
            await runner.setup()
    finally:
        await runner.cleanup()


async def test_site_refuses_a_schema_missing_one_branch(
    fresh_database: str, tmp_path: Path
) -> None:
    command.upgrade(alembic_config(fresh_database, INSTALLED_APPS), "platform@head")
    runner = web.AppRunner(create_app(site_settings(fresh_database, tmp_path)))
    try:
        missing = ", ".join(sorted(expected_heads(INSTALLED_APPS) - {"platform_0008"}))
        with pytest.raises(ConfigurationError, match=rf"missing: {missing}\b"):
            await runner.setup()
    finally:
        await runner.cleanup()


async def test_site_starts_once_migrated(fresh_database: str, tmp_path: Path) -> None:
    upgrade(fresh_database, INSTALLED_APPS)
    runner = await start_site(create_app(site_settings(fresh_database, tmp_path)))

    await runner.cleanup()


UNREACHABLE = "postgresql://portal@127.0.0.1:1/portal?connect_timeout=2"


async def test_site_starts_with_an_unreachable_database_and_is_not_ready(
    tmp_path: Path, make_client: MakeClient
) -> None:
    # Start-up does not wait for the database (tests/platform/test_db_faults.py
    # follows the site until it answers).
    client = await make_client(site_settings(UNREACHABLE, tmp_path))

    response = await client.get("/readyz")

    assert response.status == 503
    assert await response.json() == {"status": "unavailable", "database": "unreachable"}


async def test_a_cli_connection_refuses_an_unreachable_database() -> None:
    with pytest.raises(ConfigurationError, match="cannot connect to the database"):
        async with connect(UNREACHABLE):
            pass


# The embedded server


@pytest.fixture(scope="module")
def embedded_dir() -> Iterator[Path]:
    """A data folder with a running embedded server and a migrated ``portal`` database."""
    # A short path: the server's Unix socket lives inside it.
    with private_data_dir("portal-emb-") as data_dir:
        upgrade(embedded.start(data_dir), INSTALLED_APPS)
        try:
            yield data_dir
        finally:
            embedded.stop(data_dir)


def test_embedded_start_serves_the_portal_database(embedded_dir: Path) -> None:
    url = embedded.start(embedded_dir)

    assert query(url, "SELECT current_database()") == [(embedded.DATABASE_NAME,)]
    assert (embedded_dir / "postgres" / "PG_VERSION").exists()


def test_embedded_start_again_attaches_to_the_same_server(embedded_dir: Path) -> None:
    url = embedded.start(embedded_dir)
    query(url, "CREATE TABLE IF NOT EXISTS attach_probe (id int); SELECT 1")

    again = embedded.start(embedded_dir)

    assert again == url
    assert "attach_probe" in public_tables(again)


def test_embedded_start_creates_another_named_database(embedded_dir: Path) -> None:
    url = embedded.start(embedded_dir, "portal_other")

    assert query(url, "SELECT current_database()") == [("portal_other",)]


async def test_site_without_a_database_url_uses_the_embedded_server(
    embedded_dir: Path, make_client: MakeClient
) -> None:
    client = await make_client(
        Settings(database_url=None, data_dir=embedded_dir, secret_key=TEST_SECRET)
    )

    response = await client.get("/readyz")

    assert response.status == 200


@pytest.fixture
def stoppable_dir() -> Iterator[Path]:
    """A data folder with its own running embedded server, which the test may stop."""
    with private_data_dir("portal-stop-") as data_dir:
        upgrade(embedded.start(data_dir), INSTALLED_APPS)
        try:
            yield data_dir
        finally:
            embedded.stop(data_dir)


def test_embedded_stop_shuts_the_server_down(stoppable_dir: Path) -> None:
    url = embedded.start(stoppable_dir)

    assert embedded.stop(stoppable_dir) is True

    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(url)
    assert embedded.stop(stoppable_dir) is False


async def test_readyz_is_503_once_the_database_stops(
    stoppable_dir: Path, make_client: MakeClient
) -> None:
    url = embedded.start(stoppable_dir)
    client = await make_client(site_settings(url, stoppable_dir))
    assert (await client.get("/readyz")).status == 200

    embedded.stop(stoppable_dir)
    response = await client.get("/readyz")

    assert response.status == 503
    assert await response.json() == {"status": "unavailable", "database": "unreachable"}


async def test_healthz_stays_ok_when_the_database_stops(
    stoppable_dir: Path, make_client: MakeClient
) -> None:
    url = embedded.start(stoppable_dir)
    client = await make_client(site_settings(url, stoppable_dir))

    embedded.stop(stoppable_dir)
    response = await client.get("/healthz")

    assert response.status == 200
