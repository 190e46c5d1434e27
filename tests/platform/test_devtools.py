"""Developer aids: the toolbar's SQL panel (debug only) and the request log."""

from __future__ import annotations

import dataclasses
import logging
import re

import pytest

from portal.apps.polls.queries import create_question
from portal.platform.auth.tokens import create_token
from portal.platform.auth.users import User
from portal.platform.db.engine import Connection, db_key
from portal.settings import Settings
from portal.testing import Client, MakeClient, log_in


async def test_sql_panel_lists_the_queries_of_the_polls_index(
    make_client: MakeClient, settings: Settings
) -> None:
    client = await make_client(dataclasses.replace(settings, debug=True))
    page = await (await client.get("/polls/")).text()
    request_id = re.search(r"/_debugtoolbar/([0-9a-f]+)", page)
    assert request_id

    toolbar = await (await client.get(f"/_debugtoolbar/{request_id.group(1)}")).text()

    assert "1 query in" in toolbar
    assert "FROM question" in toolbar


async def test_sql_panel_shows_the_values_a_statement_ran_with(
    make_client: MakeClient, settings: Settings, conn: Connection
) -> None:
    # The detail page's statements are built once with sa.bindparam("question_id"):
    # their own parameters are None; the panel must show what execute() bound.
    question = await create_question(conn, "Bound?", ["yes", "no"])
    client = await make_client(dataclasses.replace(settings, debug=True))
    page = await (await client.get(f"/polls/{question.id}/")).text()
    request_id = re.search(r"/_debugtoolbar/([0-9a-f]+)", page)
    assert request_id

    toolbar = await (await client.get(f"/_debugtoolbar/{request_id.group(1)}")).text()

    assert f"{{&#39;question_id&#39;: {question.id}" in toolbar
    assert "&#39;question_id&#39;: None" not in toolbar
    assert "&#39;limit&#39;: None" not in toolbar


async def test_sql_panel_flags_a_statement_run_twice() -> None:
    from aiohttp import web
    from aiohttp.test_utils import make_mocked_request

    from portal.platform.db.tracing import QueryRecord
    from portal.platform.toolbar import SQLPanel

    panel = SQLPanel(make_mocked_request("GET", "/"))
    once = QueryRecord("SELECT a FROM t", "{}", 1.0)
    twice = QueryRecord("SELECT b FROM t WHERE id = %(id)s", "{'id': 1}", 2.0)
    panel._records = [twice, once, twice]

    await panel.process_response(web.Response())

    assert panel.data["repeated"] == [(twice.sql, 2)]
    assert panel.data["total_ms"] == 5.0


async def test_with_debug_off_the_engine_is_not_traced(client: Client) -> None:
    assert type(client.app[db_key]).__name__ != "TracingEngine"


@pytest.fixture
async def logged(make_client: MakeClient, settings: Settings) -> Client:
    """A client over the site with the request log on."""
    return await make_client(dataclasses.replace(settings, access_log=True))


async def test_each_request_is_logged_once_without_its_query_string(
    logged: Client, caplog: pytest.LogCaptureFixture
) -> None:
    client = logged
    with caplog.at_level(logging.INFO, logger="portal.access"):
        await client.get("/polls/?token=sekrit-value")
    lines = [r.getMessage() for r in caplog.records if r.name == "portal.access"]
    assert len(lines) == 1
    assert re.fullmatch(r"GET /polls/ 200 \d+\.\dms user=-", lines[0])
    assert "sekrit" not in caplog.text


async def test_the_request_log_names_the_logged_in_user(
    logged: Client, user: object, caplog: pytest.LogCaptureFixture
) -> None:
    client = logged
    await log_in(client, "alice")
    with caplog.at_level(logging.INFO, logger="portal.access"):
        await client.get("/")
    lines = [r.getMessage() for r in caplog.records if r.name == "portal.access"]
    assert lines[-1].endswith("user=alice")


async def test_the_request_log_names_the_api_tokens_user(
    logged: Client, conn: Connection, user: User, caplog: pytest.LogCaptureFixture
) -> None:
    client = logged
    _, secret = await create_token(conn, user.id)
    with caplog.at_level(logging.INFO, logger="portal.access"):
        await client.post(
            "/api/todos/", json={"name": "logged"}, headers={"Authorization": f"Bearer {secret}"}
        )
    lines = [r.getMessage() for r in caplog.records if r.name == "portal.access"]
    assert lines[-1].startswith("POST /api/todos/ 201")
    assert lines[-1].endswith("user=alice")
    assert secret not in caplog.text


async def test_with_the_access_log_off_no_request_is_logged(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="portal.access"):
        await client.get("/polls/")

    assert not [r for r in caplog.records if r.name == "portal.access"]
