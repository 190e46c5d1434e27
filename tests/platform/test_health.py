"""Liveness and readiness, for load balancers and orchestrators."""

from __future__ import annotations

import gc

from portal.testing import Client, MakeClient


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


async def test_a_started_site_keeps_its_startup_objects_out_of_the_collectors_way(
    client: Client,
) -> None:
    assert gc.get_freeze_count() > 0


async def test_a_stopped_site_hands_its_objects_back_to_the_collector(
    make_client: MakeClient,
) -> None:
    client = await make_client()
    await client.close()

    assert gc.get_freeze_count() == 0
