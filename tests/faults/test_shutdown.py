"""SIGTERM: requests in flight finish within the grace, live sockets hear "going away",
the process exits 0, and ``python -m portal run`` stops only the embedded server it started.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import psycopg2
import pytest

from portal.platform.auth.tokens import create_token
from portal.platform.auth.users import create_user
from portal.platform.db import embedded
from portal.platform.db.engine import connect
from portal.testing import PASSWORD, migrated_database, truncate_all
from tests.databases import private_data_dir
from tests.servers import (
    ROOT,
    Server,
    free_port,
    gunicorn_command,
    portal_command,
    running,
    server_env,
)

#: The grace the tests give; gunicorn_command's --graceful-timeout is the same.
GRACE = 5.0
#: How long the request in flight goes on after SIGTERM: well within the grace.
IN_FLIGHT_SECONDS = 1.5


@pytest.fixture(scope="module")
def shutdown_db(database_url: str) -> str:
    """A database of this module's own: every test here ends its server with a signal."""
    url = migrated_database(database_url, "portal_shutdown")
    truncate_all(url)
    return url


@pytest.fixture(scope="module")
def token(shutdown_db: str) -> str:
    """An API token of a staff user of :func:`shutdown_db`."""

    async def make() -> str:
        async with connect(shutdown_db) as conn:
            user = await create_user(conn, "staff", PASSWORD, is_staff=True)
            _, secret = await create_token(conn, user.id, "shutdown")
            return secret

    return asyncio.run(make())


def _sql(url: str, statement: str, *params: object) -> list[tuple[object, ...]]:
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


@pytest.fixture
def choice(shutdown_db: str) -> tuple[int, int]:
    """A new question's one choice, with no votes: ``(question_id, choice_id)``."""
    ((question_id,),) = _sql(
        shutdown_db,
        "INSERT INTO question (question_text, pub_date) VALUES ('Shutdown?', now()) RETURNING id",
    )
    ((choice_id,),) = _sql(
        shutdown_db,
        "INSERT INTO choice (question_id, choice_text) VALUES (%s, 'Yes') RETURNING id",
        question_id,
    )
    assert isinstance(question_id, int)
    assert isinstance(choice_id, int)
    return question_id, choice_id


def _env(shutdown_db: str, tmp_path: Path, grace: float = GRACE) -> dict[str, str]:
    return {**server_env(shutdown_db, tmp_path / "data"), "PORTAL_SHUTDOWN_TIMEOUT": str(grace)}


def _command(server: str, port: int) -> list[str]:
    return portal_command(port) if server == "portal run" else gunicorn_command(port, 1)


def _process(site: Server) -> subprocess.Popen[bytes]:
    assert site.process is not None
    return site.process


async def _wait_exit(process: subprocess.Popen[bytes], limit: float) -> int:
    """The process's exit status, polled without blocking the event loop."""
    deadline = time.monotonic() + limit
    while process.poll() is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"the server did not exit within {limit} s")
        await asyncio.sleep(0.02)
    return process.returncode


@contextmanager
def _row_locked(url: str, choice_id: int) -> Iterator[psycopg2.extensions.connection]:
    """Hold the choice's row lock, so a vote on it waits until the block commits."""
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT 1 FROM choice WHERE id = %s FOR UPDATE", (choice_id,))
            yield conn
    finally:
        conn.close()


async def _vote(site: Server, token: str, choice: tuple[int, int]) -> int:
    question_id, choice_id = choice
    url = f"{site.url}/api/questions/{question_id}/choices/{choice_id}/vote"
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, headers={"Authorization": f"Bearer {token}"}) as response,
    ):
        await response.read()
        return response.status


@pytest.mark.parametrize("server", ["portal run", "gunicorn"])
async def test_sigterm_lets_a_request_in_flight_finish_and_exits_0(
    server: str, shutdown_db: str, token: str, choice: tuple[int, int], tmp_path: Path
) -> None:
    port = free_port()
    with running(
        _command(server, port), port, _env(shutdown_db, tmp_path), tmp_path / "log"
    ) as site:
        with _row_locked(shutdown_db, choice[1]):
            vote = asyncio.create_task(_vote(site, token, choice))
            await asyncio.sleep(0.5)  # the vote is in its UPDATE, waiting for the lock
            _process(site).send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            await asyncio.sleep(IN_FLIGHT_SECONDS)
            assert not vote.done()
        status = await vote
        code = await _wait_exit(_process(site), GRACE + 5)
        exited_after = time.monotonic() - signalled

    assert status == 200
    assert _sql(shutdown_db, "SELECT votes FROM choice WHERE id = %s", choice[1]) == [(1,)]
    assert code == 0
    assert exited_after < GRACE


async def _slow_body(
    name: str, seconds: float, process: subprocess.Popen[bytes], signalled: list[float]
) -> AsyncIterator[bytes]:
    """A todo's JSON, sent over *seconds*; SIGTERM goes to *process* once it has begun."""
    body = json.dumps({"name": name}).encode()
    pieces = [body[i : i + 4] for i in range(0, len(body), 4)]
    yield pieces[0]
    await asyncio.sleep(0.4)  # the server is in the handler, reading the body
    process.send_signal(signal.SIGTERM)
    signalled.append(time.monotonic())
    for piece in pieces[1:]:
        await asyncio.sleep(seconds / len(pieces))
        yield piece


async def _post_slowly(site: Server, token: str, name: str, seconds: float) -> tuple[int, float]:
    """POST a todo whose body takes *seconds*, SIGTERM mid-body; its status, and when."""
    signalled: list[float] = []
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http,
        http.post(
            f"{site.url}/api/todos/",
            data=_slow_body(name, seconds, _process(site), signalled),
            headers={"Content-Type": "application/json"},
        ) as response,
    ):
        await response.read()
        return response.status, signalled[0]


def _todo_names(url: str) -> set[str]:
    return {str(name) for (name,) in _sql(url, "SELECT name FROM todo")}


async def test_sigterm_lets_a_request_still_uploading_its_body_finish(
    shutdown_db: str, token: str, tmp_path: Path
) -> None:
    port = free_port()
    with running(portal_command(port), port, _env(shutdown_db, tmp_path), tmp_path / "log") as site:
        status, signalled = await _post_slowly(site, token, "slow upload", seconds=2.0)
        code = await _wait_exit(_process(site), GRACE + 5)
        exited_after = time.monotonic() - signalled

    assert status == 201
    assert "slow upload" in _todo_names(shutdown_db)
    assert code == 0
    assert exited_after < GRACE


@pytest.mark.parametrize("server", ["portal run", "gunicorn"])
async def test_sigterm_closes_live_sockets_with_going_away(
    server: str, shutdown_db: str, tmp_path: Path
) -> None:
    port = free_port()
    with running(
        _command(server, port), port, _env(shutdown_db, tmp_path), tmp_path / "log"
    ) as site:
        async with aiohttp.ClientSession() as http, http.ws_connect(f"{site.url}/todos/live") as ws:
            assert (await ws.receive_json(timeout=5))["type"] == "snapshot"
            _process(site).send_signal(signal.SIGTERM)
            message = await ws.receive(timeout=GRACE)
        # An open socket holds nothing back: the process does not wait out the grace.
        code = await _wait_exit(_process(site), GRACE - 0.5)

    assert message.type is aiohttp.WSMsgType.CLOSE
    assert message.data == aiohttp.WSCloseCode.GOING_AWAY
    assert code == 0


async def test_a_request_past_the_grace_is_cut_and_the_process_exits_0(
    shutdown_db: str, token: str, choice: tuple[int, int], tmp_path: Path
) -> None:
    grace = 1.0
    port = free_port()
    env = _env(shutdown_db, tmp_path, grace=grace)
    with (
        running(portal_command(port), port, env, tmp_path / "server.log") as site,
        _row_locked(shutdown_db, choice[1]),
    ):
        vote = asyncio.create_task(_vote(site, token, choice))
        await asyncio.sleep(0.5)
        _process(site).send_signal(signal.SIGTERM)
        # Exits while the vote still waits for the lock: it was not waited for.
        code = await _wait_exit(_process(site), grace + 3)
        with pytest.raises(aiohttp.ClientError):
            await vote

    assert code == 0


# The embedded server: stopped at exit only by the process that started it


@pytest.fixture
def embedded_env() -> Iterator[tuple[dict[str, str], Path]]:
    """Settings without a database URL, over a migrated embedded server that is stopped."""
    with private_data_dir("portal-shutdown-pg-") as data_dir:
        env = server_env("", data_dir)
        del env["PORTAL_DATABASE_URL"]
        try:
            # The CLI starts the server and leaves it running, as `make run` relies on.
            migrate = [sys.executable, "-m", "portal", "migrate"]
            subprocess.run(migrate, cwd=ROOT, env=env, check=True, capture_output=True, timeout=60)
            embedded.stop(data_dir)
            yield env, data_dir
        finally:
            embedded.stop(data_dir)


def _postgres_running(data_dir: Path) -> bool:
    return (data_dir / "postgres" / "postmaster.pid").exists()


def test_run_stops_the_embedded_server_it_started(
    embedded_env: tuple[dict[str, str], Path], tmp_path: Path
) -> None:
    env, data_dir = embedded_env
    port = free_port()
    with running(portal_command(port), port, env, tmp_path / "server.log") as site:
        assert _postgres_running(data_dir)
        _process(site).send_signal(signal.SIGTERM)
        code = _process(site).wait(timeout=GRACE + 10)

    assert code == 0
    assert not _postgres_running(data_dir)


def test_run_leaves_an_embedded_server_it_found_running(
    embedded_env: tuple[dict[str, str], Path], tmp_path: Path
) -> None:
    env, data_dir = embedded_env
    url = embedded.start(data_dir)
    port = free_port()
    with running(portal_command(port), port, env, tmp_path / "server.log") as site:
        _process(site).send_signal(signal.SIGTERM)
        code = _process(site).wait(timeout=GRACE + 10)

    assert code == 0
    assert _postgres_running(data_dir)
    psycopg2.connect(url).close()


async def test_a_live_client_that_never_answers_the_close_does_not_hold_shutdown(
    shutdown_db: str, tmp_path: Path
) -> None:
    port = free_port()
    with running(portal_command(port), port, _env(shutdown_db, tmp_path), tmp_path / "log") as site:
        async with (
            aiohttp.ClientSession() as http,
            # autoclose off and no reads: the server's close frame is never answered.
            http.ws_connect(f"{site.url}/todos/live", autoclose=False) as ws,
        ):
            assert (await ws.receive_json(timeout=5))["type"] == "snapshot"
            _process(site).send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            code = await _wait_exit(_process(site), GRACE + 10)
            exited_after = time.monotonic() - signalled

    assert code == 0
    assert exited_after < 4
