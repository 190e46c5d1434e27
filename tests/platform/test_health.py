"""Liveness and readiness, for load balancers and orchestrators."""

from __future__ import annotations

from tests.conftest import Client


async def test_healthz_answers_ok_in_json(client: Client) -> None:
    response = await client.get("/healthz")

    assert response.status == 200
    assert response.content_type == "application/json"
    assert await response.json() == {"status": "ok"}


async def test_readyz_answers_ready_when_the_database_answers(client: Client) -> None:
    response = await client.get("/readyz")

    assert response.status == 200
    assert response.content_type == "application/json"
    assert await response.json() == {"status": "ready", "database": "ok"}


async def test_health_checks_need_no_session(client: Client) -> None:
    for path in ("/healthz", "/readyz"):
        response = await client.get(path)

        assert "Set-Cookie" not in response.headers
