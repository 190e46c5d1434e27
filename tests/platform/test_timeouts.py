"""The request time limit: a 504 in the section's format, no write left half-done.

Live sockets are exempt.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from typing import Any

import psycopg2.extensions
import pytest
import sqlalchemy as sa
from aiohttp import ClientResponse, web

from portal.apps.polls import queries as polls
from portal.apps.todos import queries as todos
from portal.apps.todos.tables import todo
from portal.platform.api.problems import PROBLEM_TYPE
from portal.platform.appspec import AppSpec
from portal.platform.db.engine import db_key
from portal.platform.policy import HTML_SITE, JSON_API
from portal.settings import Settings
from portal.testing import Client, MakeClient
from tests.conftest import INSTALLED_APPS

LAYOUT = '<nav class="site-nav"'
LIMIT = 0.3


# A test-only app with slow routes


async def _nap(request: web.Request) -> web.Response:
    await asyncio.sleep(float(request.query["seconds"]))
    return web.Response(text="awake")


async def _write(request: web.Request) -> web.Response:
    """Store a todo, then take *seconds* before finishing, the way *how* says."""
    name, seconds, how = (
        request.query["name"],
        float(request.query["seconds"]),
        request.query["how"],
    )
    async with request.config_dict[db_key].acquire() as conn:
        if how == "raw":
            # A transaction the connection object does not know about.
            await conn.execute(sa.text("BEGIN"))
            await conn.execute(todo.insert().values(name=name))
            await asyncio.sleep(seconds)
            await conn.execute(sa.text("COMMIT"))
        else:
            async with conn.begin():
                await conn.execute(todo.insert().values(name=name))
                if how == "query":
                    await conn.execute(sa.select(sa.func.pg_sleep(seconds)))
                else:
                    await asyncio.sleep(seconds)
    return web.Response(text="written")


def _build_slow(settings: Settings) -> web.Application:
    app = web.Application()
    app.router.add_get("/nap", _nap, name="index")
    app.router.add_get("/write", _write, name="write")
    return app


SLOW_SITE = AppSpec(
    name="slow",
    title="Slow",
    description="A test app whose pages take their time.",
    factory=_build_slow,
    policy=HTML_SITE,
)
SLOW_API = dataclasses.replace(SLOW_SITE, name="slowapi", policy=JSON_API)


async def start(make_client: MakeClient, settings: Settings, **changes: Any) -> Client:
    """The whole site with the slow apps, a *LIMIT* time limit unless *changes* say otherwise."""
    changes.setdefault("request_timeout", LIMIT)
    with_apps = dataclasses.replace(
        settings,
        apps={**settings.apps, "slow": "/slow/", "slowapi": "/slowapi/"},
        **changes,
    )
    return await make_client(with_apps, apps=[*INSTALLED_APPS, SLOW_SITE, SLOW_API])


async def timed_get(client: Client, path: str) -> tuple[ClientResponse, float]:
    started = time.monotonic()
    response = await client.get(path)
    await response.read()
    return response, time.monotonic() - started


async def backends_running(conn: Any, fragment: str) -> int:
    query = sa.text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE state = 'active' AND query LIKE :pattern AND pid <> pg_backend_pid()"
    )
    return int(await conn.scalar(query, pattern=f"%{fragment}%"))


# 504 in the section's format


async def test_a_page_still_running_at_the_limit_is_a_504_page(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await start(make_client, settings)

    response, elapsed = await timed_get(client, "/slow/nap?seconds=5")

    body = await response.text()
    assert response.status == 504
    assert response.content_type == "text/html"
    assert LAYOUT in body
    assert "took longer than 0.3 seconds" in body
    assert elapsed < 1.5


async def test_an_api_call_still_running_at_the_limit_is_a_504_problem(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await start(make_client, settings)

    response, _ = await timed_get(client, "/slowapi/nap?seconds=5")

    assert response.status == 504
    assert response.content_type == PROBLEM_TYPE
    problem = await response.json(content_type=PROBLEM_TYPE)
    assert problem["status"] == 504
    assert problem["title"] == "Gateway Timeout"


async def test_a_request_within_the_limit_is_answered_as_usual(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await start(make_client, settings)

    response, _ = await timed_get(client, "/slow/nap?seconds=0.05")

    assert response.status == 200


async def test_a_zero_request_timeout_sets_no_limit(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await start(make_client, settings, request_timeout=0.0)

    response, _ = await timed_get(client, "/slow/nap?seconds=0.5")

    assert response.status == 200


async def test_a_request_past_the_limit_is_logged_in_one_warning_line(
    make_client: MakeClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    client = await start(make_client, settings)
    caplog.clear()

    await timed_get(client, "/slow/nap?seconds=5")

    (line,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "GET /slow/nap ran past the 0.3 s time limit" in line.getMessage()
    assert line.exc_info is None


# No write left half-done


async def test_a_write_cut_short_mid_statement_is_rolled_back(
    make_client: MakeClient, settings: Settings, conn: Any
) -> None:
    client = await start(make_client, settings)

    response, _ = await timed_get(client, "/slow/write?name=mid&seconds=5&how=query")

    assert response.status == 504
    assert await todos.count_todos(conn) == 0


async def test_a_statement_cut_short_stops_on_the_server_too(
    make_client: MakeClient, settings: Settings, conn: Any
) -> None:
    client = await start(make_client, settings)

    await timed_get(client, "/slow/write?name=mid&seconds=30&how=query")
    deadline = time.monotonic() + 3
    running = await backends_running(conn, "pg_sleep")
    while running and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        running = await backends_running(conn, "pg_sleep")

    assert running == 0


async def test_a_write_cut_short_between_statements_is_rolled_back(
    make_client: MakeClient, settings: Settings, conn: Any
) -> None:
    client = await start(make_client, settings, db_pool_max=1)

    response, _ = await timed_get(client, "/slow/write?name=between&seconds=5&how=pause")

    assert response.status == 504
    assert await todos.count_todos(conn) == 0
    assert (await client.get("/todos/")).status == 200


async def test_a_connection_left_inside_a_transaction_is_not_pooled_again(
    make_client: MakeClient, settings: Settings, conn: Any
) -> None:
    client = await start(make_client, settings, db_pool_max=1)

    response, _ = await timed_get(client, "/slow/write?name=raw&seconds=5&how=raw")

    assert response.status == 504
    assert await todos.count_todos(conn) == 0
    pool = client.app[db_key]._pool
    statuses = [c.raw.get_transaction_status() for c in pool._free]
    assert set(statuses) <= {psycopg2.extensions.TRANSACTION_STATUS_IDLE}
    # The next request on the one pooled connection sees no open transaction.
    assert (await client.get("/todos/")).status == 200
    assert await todos.count_todos(conn) == 0


# Live sockets are exempt


async def test_a_live_socket_outlives_the_limit(
    make_client: MakeClient, settings: Settings, conn: Any
) -> None:
    client = await start(make_client, settings)
    question = await polls.create_question(conn, "Still there?", ["yes"])
    (choice,) = await polls.get_choices(conn, question.id)
    ws = await client.ws_connect(f"/polls/{question.id}/live")
    assert (await ws.receive_json())["type"] == "snapshot"

    await asyncio.sleep(LIMIT * 2)
    await polls.vote(conn, question.id, choice.id)

    assert await ws.receive_json(timeout=2) == {"type": "votes", "choice_id": choice.id, "votes": 1}
    await ws.close()
