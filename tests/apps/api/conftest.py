"""Fixtures for the JSON API: tokens for a staff user and a plain user, and clients sending them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import ClientResponse

from portal.platform.api.problems import PROBLEM_TYPE, ProblemKind, default_kind
from portal.platform.auth.tokens import create_token
from portal.platform.auth.users import User
from portal.testing import Client


class Api:
    """A test client that sends ``Authorization: Bearer <token>`` with every request.

    ``token=None`` makes an anonymous caller; *headers* given to a request are
    added to (and may replace) the bearer header.
    """

    def __init__(self, client: Client, token: str | None = None) -> None:
        self.client = client
        self.token = token

    def with_token(self, token: str | None) -> Api:
        """The same client, calling with another token (or none)."""
        return Api(self.client, token)

    async def request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> ClientResponse:
        sent = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        sent.update(headers or {})
        return await self.client.request(
            method, path, headers=sent, allow_redirects=False, **kwargs
        )

    async def get(self, path: str, **kwargs: Any) -> ClientResponse:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> ClientResponse:
        return await self.request("POST", path, **kwargs)

    async def patch(self, path: str, **kwargs: Any) -> ClientResponse:
        return await self.request("PATCH", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> ClientResponse:
        return await self.request("DELETE", path, **kwargs)


async def body_of(response: ClientResponse) -> Any:
    """The response's JSON, whatever its JSON media type."""
    return json.loads(await response.text())


async def problem_of(
    response: ClientResponse, status: int, kind: ProblemKind | None = None, prefix: str = "/api/"
) -> dict[str, Any]:
    """The RFC 9457 problem *response* carries, checked to be one with *status*, of *kind*
    (the status's own by default), its ``type`` under the API at *prefix*."""
    text = await response.text()
    assert response.status == status, text
    assert response.content_type == PROBLEM_TYPE, text
    problem: dict[str, Any] = json.loads(text)
    kind = kind or default_kind(status)
    assert kind is not None
    assert problem["type"] == f"{prefix}problems/{kind.slug}"
    assert problem["title"] == kind.title
    assert problem["status"] == status
    return problem


def fields_of(problem: dict[str, Any]) -> list[str]:
    """The fields a problem's ``errors`` names, in order."""
    return [error["field"] for error in problem.get("errors", [])]


async def new_token(conn: Any, user: User) -> str:
    """A fresh token's secret for *user*."""
    _, secret = await create_token(conn, user.id, "tests")
    return secret


@pytest.fixture
async def staff_token(conn: Any, staff_user: User) -> str:
    """A token of the staff user ``admin``."""
    return await new_token(conn, staff_user)


@pytest.fixture
async def user_token(conn: Any, user: User) -> str:
    """A token of the ordinary user ``alice``."""
    return await new_token(conn, user)


@pytest.fixture
def api(client: Client, user_token: str) -> Api:
    """The whole site, called with the ordinary user's token."""
    return Api(client, user_token)


@pytest.fixture
def staff_api(client: Client, staff_token: str) -> Api:
    """The whole site, called with the staff user's token."""
    return Api(client, staff_token)


@pytest.fixture
def anonymous(client: Client) -> Api:
    """The whole site, called without a token."""
    return Api(client)
