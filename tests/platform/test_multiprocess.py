"""Several worker processes on one database: counts stay exact, live pages stay in sync."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from portal.testing import PASSWORD, migrated_database, truncate_all
from tests.servers import Server, free_port, gunicorn_command, portal_command, running, server_env

VOTES = 400


@pytest.fixture(scope="module")
def mp_database(database_url: str) -> str:
    return migrated_database(database_url, "portal_multiprocess")


@pytest.fixture(scope="module")
def worker_pair(
    mp_database: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[tuple[Server, Server]]:
    """Two independent ``python -m portal run`` processes on one database, started once:
    a pair boots in ~5 s, and each test only needs it over an empty database.

    Parametrised indirectly, the parameter is more of their environment (a pair each).
    """
    folder = tmp_path_factory.mktemp("workers")
    env = {**server_env(mp_database, folder / "data"), **getattr(request, "param", {})}
    with ExitStack() as stack:
        servers = []
        for name in ("a", "b"):
            port = free_port()
            log = folder / f"worker-{name}.log"
            servers.append(stack.enter_context(running(portal_command(port), port, env, log)))
        yield servers[0], servers[1]


@pytest.fixture
def two_workers(worker_pair: tuple[Server, Server], mp_database: str) -> tuple[Server, Server]:
    """The two processes, over a database emptied for this test."""
    truncate_all(mp_database)
    return worker_pair


def _question_with_token(server: Server) -> tuple[str, int, int]:
    server.cli("createsuperuser", "--username", "staff", "--password-stdin", stdin=PASSWORD)
    token = server.cli("token", "create", "staff").strip().splitlines()[-1]
    server.cli("seed")
    return token, *_first_choice(server)


def _first_choice(server: Server) -> tuple[int, int]:
    import urllib.request

    with urllib.request.urlopen(f"{server.url}/api/questions/?limit=1") as response:
        question = json.load(response)["items"][0]
    with urllib.request.urlopen(f"{server.url}/api/questions/{question['id']}") as response:
        choice = json.load(response)["choices"][0]
    return question["id"], choice["id"]


async def test_concurrent_votes_through_two_workers_count_exactly(
    two_workers: tuple[Server, Server],
) -> None:
    a, b = two_workers
    token, question_id, choice_id = _question_with_token(a)
    path = f"/api/questions/{question_id}/choices/{choice_id}/vote"
    headers = {"Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as http:

        async def vote(server: Server) -> int:
            async with http.post(server.url + path) as response:
                return response.status

        statuses = await asyncio.gather(*(vote(a if i % 2 else b) for i in range(VOTES)))
        assert statuses == [200] * VOTES
        async with http.get(f"{b.url}/api/questions/{question_id}/choices/{choice_id}") as got:
            assert (await got.json())["votes"] == VOTES


async def test_a_vote_on_one_worker_reaches_a_results_socket_on_the_other(
    two_workers: tuple[Server, Server],
) -> None:
    a, b = two_workers
    token, question_id, choice_id = _question_with_token(a)
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{b.url}/polls/{question_id}/live") as ws,
    ):
        snapshot: dict[str, Any] = await ws.receive_json(timeout=5)
        assert snapshot["type"] == "snapshot"
        vote_url = f"{a.url}/api/questions/{question_id}/choices/{choice_id}/vote"
        async with http.post(vote_url, headers={"Authorization": f"Bearer {token}"}) as r:
            assert r.status == 200
        update = await ws.receive_json(timeout=1)
    assert update == {"type": "votes", "choice_id": choice_id, "votes": 1}


async def test_a_session_cookie_from_one_worker_is_valid_on_the_other(
    two_workers: tuple[Server, Server],
) -> None:
    import re

    a, b = two_workers
    a.cli("createsuperuser", "--username", "staff", "--password-stdin", stdin=PASSWORD)
    # unsafe=True: the jar must keep cookies from a bare IP address like 127.0.0.1.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(f"{a.url}/login") as page:
            token = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())
        assert token
        form = {"username": "staff", "password": PASSWORD, "csrf_token": token.group(1)}
        async with http.post(f"{a.url}/login", data=form, allow_redirects=False) as login:
            assert login.status == 303
        # The same cookie jar, sent to the other process (the cookie is not port-bound).
        async with http.get(f"{b.url}/") as home:
            assert "You are logged in as <strong>staff</strong>" in await home.text()


def test_gunicorn_serves_the_site_with_two_workers(mp_database: str, tmp_path: Path) -> None:
    import urllib.request

    port = free_port()
    env = server_env(mp_database, tmp_path / "data")
    with running(gunicorn_command(port, workers=2), port, env, tmp_path / "gunicorn.log") as site:
        with urllib.request.urlopen(f"{site.url}/polls/") as response:
            assert response.status == 200
        log = (tmp_path / "gunicorn.log").read_text()
    assert log.count("Booting worker") == 2


async def test_the_login_throttle_holds_across_two_workers(
    two_workers: tuple[Server, Server],
) -> None:
    import re

    a, b = two_workers
    # unsafe=True: the jar must keep cookies from a bare IP address like 127.0.0.1.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(f"{a.url}/login") as page:
            token = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())
        assert token

        async def guess(server: Server, username: str) -> int:
            form = {"username": username, "password": "wrong", "csrf_token": token.group(1)}
            async with http.post(f"{server.url}/login", data=form, allow_redirects=False) as r:
                return r.status

        # Forty accounts from one address, at once, half through each worker:
        # the per-address limit (30) counts them all, whichever worker checks.
        statuses = await asyncio.gather(*(guess(a if n % 2 else b, f"user{n}") for n in range(40)))

    assert sorted(statuses) == [400] * 30 + [429] * 10


@pytest.mark.parametrize("worker_pair", [{"PORTAL_API_RATE_LIMIT": "10/minute"}], indirect=True)
async def test_the_api_rate_limit_holds_across_two_workers(
    two_workers: tuple[Server, Server],
) -> None:
    a, b = two_workers
    async with aiohttp.ClientSession() as http:

        async def read(server: Server) -> int:
            async with http.get(f"{server.url}/api/todos/") as response:
                return response.status

        # Thirty reads from one address at once, half through each worker:
        # together the workers allow the limit, not twice it.
        statuses = await asyncio.gather(*(read(a if n % 2 else b) for n in range(30)))

    assert sorted(statuses) == [200] * 10 + [429] * 20
