"""The request log with the toolbar on: the developer's requests, one line each."""

from __future__ import annotations

import dataclasses
import logging
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from portal.settings import Settings
from portal.testing import Client, MakeClient, migrated_database
from tests.servers import free_port, portal_command, running, server_env


@pytest.fixture
async def dev_client(make_client: MakeClient, settings: Settings) -> Client:
    """The site as the dev server builds it: debug, the toolbar and the request log on."""
    return await make_client(dataclasses.replace(settings, debug=True, access_log=True))


def _info_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "portal.access" and r.levelno == logging.INFO
    ]


async def test_the_toolbars_own_requests_stay_below_info(
    dev_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="portal.access"):
        toolbar = await dev_client.get("/_debugtoolbar/static/css/toolbar.css")
        assert toolbar.status == 200
        await dev_client.get("/polls/")

    assert [line.split()[1] for line in _info_lines(caplog)] == ["/polls/"]


async def test_a_client_error_is_one_line_without_its_headers(
    dev_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    headers = {"Authorization": "Bearer tok-SECRET", "Cookie": "portal_session=SECRET"}
    with caplog.at_level(logging.DEBUG):
        response = await dev_client.get("/no/such/page", headers=headers)

    assert response.status == 404
    (line,) = _info_lines(caplog)
    assert line.startswith("GET /no/such/page 404 ")
    assert "SECRET" not in caplog.text


def test_portal_run_prints_no_header_cookie_token_or_csrf_field(
    database_url: str, tmp_path: Path
) -> None:
    database = migrated_database(database_url, "portal_request_log")
    port = free_port()
    env = {**server_env(database, tmp_path / "data"), "PORTAL_ACCESS_LOG": "1"}
    log = tmp_path / "server.log"
    secrets = {"Authorization": "Bearer tok-SECRET-1", "Cookie": "portal_session=SECRET-2"}
    with running(portal_command(port), port, env, log) as server:
        for method, path, body in [
            ("GET", "/no/such/page", None),
            ("POST", "/login", b"username=a&password=SECRET-3&csrf_token=SECRET-4"),
            ("POST", "/api/todos/", b'{"name": "x"}'),
        ]:
            request = urllib.request.Request(
                server.url + path, data=body, method=method, headers=secrets
            )
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=5)
            refused.value.close()
            assert 400 <= refused.value.code < 500
        time.sleep(0.3)
    printed = log.read_text()

    assert "SECRET" not in printed
    requests = [line for line in printed.splitlines() if "portal.access" in line]
    assert [line.split("portal.access: ")[1].split()[:3] for line in requests[-3:]] == [
        ["GET", "/no/such/page", "404"],
        ["POST", "/login", "403"],
        ["POST", "/api/todos/", "401"],
    ]
