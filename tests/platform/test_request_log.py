"""The request log with the toolbar on: the developer's requests, one line each."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from portal.settings import Settings
from tests.conftest import Client, MakeClient


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
