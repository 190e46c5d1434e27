"""What an operator sees of a running site: its log lines, its database connections, its headers.

Real servers where it matters: gunicorn calls only the application factory,
so whatever it logs and names, the factory set up.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import psycopg2
import pytest
from psycopg2.extensions import make_dsn
from yarl import URL

from portal.platform.edge.headers import SERVER
from portal.settings import Settings
from portal.testing import (
    PASSWORD,
    TEST_SECRET,
    Client,
    MakeClient,
    migrated_database,
    truncate_all,
)
from tests.servers import (
    ROOT,
    Server,
    free_port,
    gunicorn_command,
    portal_command,
    running,
    server_env,
)


@pytest.fixture(scope="module")
def ops_database(database_url: str) -> str:
    url = migrated_database(database_url, "portal_operations")
    truncate_all(url)
    return url


@pytest.fixture(scope="module")
def gunicorn_log(ops_database: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"


@pytest.fixture(scope="module")
def gunicorn(ops_database: str, gunicorn_log: Path) -> Iterator[Server]:
    """One gunicorn worker, started as the README says, with the default ``log_level``."""
    env = server_env(ops_database, gunicorn_log.parent / "data")
    env.pop("PORTAL_LOG_LEVEL", None)
    port = free_port()
    with running(gunicorn_command(port, 1), port, env, gunicorn_log) as server:
        server.cli("createsuperuser", "--username", "staff", "--password-stdin", stdin=PASSWORD)
        yield server


@pytest.fixture(scope="module")
def portal_run(ops_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("portal-run")
    port = free_port()
    env = server_env(ops_database, folder / "data")
    with running(portal_command(port), port, env, folder / "run.log") as server:
        yield server


def wait_for_line(log: Path, pattern: str) -> str:
    """The first line of *log* matching *pattern*, waiting a little for it to be written."""
    deadline = time.monotonic() + 10
    while True:
        for line in log.read_text().splitlines():
            if re.search(pattern, line):
                return line
        if time.monotonic() > deadline:
            raise AssertionError(f"no line matches {pattern!r} in:\n{log.read_text()}")
        time.sleep(0.1)


async def raw_request(url: str, request: bytes) -> str:
    """What the server at *url* answers to the bytes *request*, up to the closed connection."""
    target = URL(url)
    assert target.host is not None
    assert target.port is not None
    reader, writer = await asyncio.open_connection(target.host, target.port)
    writer.write(request)
    await writer.drain()
    answer = (await reader.read()).decode("latin-1")
    writer.close()
    await writer.wait_closed()
    return answer


MALFORMED = b"GET / HTTP/1.1\r\nHost: localhost\r\nno colon here\r\n\r\n"


def test_gunicorn_logs_the_start_up_lines(gunicorn: Server, gunicorn_log: Path) -> None:
    assert "INFO portal.apps.polls: polls ready" in wait_for_line(gunicorn_log, "polls ready")


async def test_gunicorn_logs_a_successful_login(gunicorn: Server, gunicorn_log: Path) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(f"{gunicorn.url}/login") as page:
            token = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())
        assert token
        form = {"username": "staff", "password": PASSWORD, "csrf_token": token.group(1)}
        async with http.post(f"{gunicorn.url}/login", data=form, allow_redirects=False) as login:
            assert login.status == 303

    line = wait_for_line(gunicorn_log, "login succeeded for 'staff'")
    assert PASSWORD not in await asyncio.to_thread(gunicorn_log.read_text)
    assert "INFO portal.auth" in line


async def test_gunicorn_logs_a_refusal_as_a_security_event(
    gunicorn: Server, gunicorn_log: Path
) -> None:
    async with aiohttp.ClientSession() as http, http.post(f"{gunicorn.url}/logout") as refused:
        assert refused.status == 403

    line = wait_for_line(gunicorn_log, "portal.security: refused 403 POST /logout")
    assert "WARNING" in line


def test_gunicorn_writes_each_line_once(gunicorn: Server, gunicorn_log: Path) -> None:
    wait_for_line(gunicorn_log, "polls ready")

    assert len(re.findall("polls ready", gunicorn_log.read_text())) == 1


async def test_gunicorn_names_its_worker_s_connections(
    gunicorn: Server, gunicorn_log: Path, ops_database: str
) -> None:
    worker = wait_for_line(gunicorn_log, r"Booting worker with pid: \d+").split()[-1]
    async with aiohttp.ClientSession() as http, http.get(f"{gunicorn.url}/polls/") as page:
        assert page.status == 200

    names = await asyncio.to_thread(application_names, ops_database)

    assert f"portal web pid={worker}" in names
    assert f"portal listen pid={worker}" in names


async def test_gunicorn_says_only_portal_as_its_server(gunicorn: Server) -> None:
    async with aiohttp.ClientSession() as http:
        for path in ("/", "/static/portal.css", "/no/such/page"):
            async with http.get(gunicorn.url + path) as response:
                assert response.headers.getall("Server") == [SERVER], path

    assert f"\r\nServer: {SERVER}\r\n" in await raw_request(gunicorn.url, MALFORMED)


async def test_portal_run_says_only_portal_as_its_server(portal_run: Server) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{portal_run.url}/") as response:
        assert response.headers.getall("Server") == [SERVER]

    answer = await raw_request(portal_run.url, MALFORMED)
    assert f"\r\nServer: {SERVER}\r\n" in answer
    assert "aiohttp" not in answer


async def test_the_site_names_its_pool_and_its_listener(client: Client, clean_db: str) -> None:
    assert (await client.get("/polls/")).status == 200

    names = await asyncio.to_thread(application_names, clean_db)

    assert f"portal web pid={os.getpid()}" in names
    assert f"portal listen pid={os.getpid()}" in names


async def test_a_command_s_connection_is_named_too(conn: Any, clean_db: str) -> None:
    names = await asyncio.to_thread(application_names, clean_db)

    assert f"portal cli pid={os.getpid()}" in names


async def test_a_name_in_the_database_url_wins(
    make_client: MakeClient, settings: Settings, clean_db: str
) -> None:
    named = make_dsn(clean_db, application_name="reporting")
    client = await make_client(dataclasses.replace(settings, database_url=named))
    assert (await client.get("/polls/")).status == 200

    names = await asyncio.to_thread(application_names, clean_db)

    assert "reporting" in names
    assert f"portal web pid={os.getpid()}" not in names


def application_names(url: str) -> list[str]:
    """The ``application_name`` of every connection to *url*'s database."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT application_name FROM pg_stat_activity WHERE datname = current_database()"
            )
            return [row[0] for row in cur.fetchall()]
    finally:
        conn.close()


def run_python(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PORTAL_SECRET_KEY": TEST_SECRET, "PORTAL_DATA_DIR": str(tmp_path)}
    env.pop("PORTAL_LOG_LEVEL", None)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def test_the_factory_called_many_times_writes_each_line_once(tmp_path: Path) -> None:
    result = run_python(
        "import logging\n"
        "from portal.main import create_app\n"
        "for _ in range(5):\n"
        "    create_app()\n"
        "logging.getLogger('portal.example').info('hello from portal')\n",
        tmp_path,
    )

    assert result.stderr.count("hello from portal") == 1
    assert "INFO portal.example: hello from portal" in result.stderr


def test_the_factory_keeps_a_host_s_own_logging(tmp_path: Path) -> None:
    result = run_python(
        "import logging\n"
        "logging.basicConfig(format='HOST %(name)s %(message)s')\n"
        "from portal.main import create_app\n"
        "create_app()\n"
        "logging.getLogger('portal.example').info('hello from portal')\n",
        tmp_path,
    )

    assert result.stderr.splitlines() == ["HOST portal.example hello from portal"]
