"""The event channel: delivery on commit, fan-out, bounds, reconnection."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import psycopg2
import pytest

from portal.apps.polls import queries
from portal.apps.polls.tables import choice
from portal.platform.live.events import RESYNC, Event, EventBus, events_key, publish
from portal.testing import Client


async def _next(subscription: Any, within: float = 2.0) -> Event:
    event: Event = await asyncio.wait_for(subscription.get(), within)
    return event


async def _next_update(subscription: Any) -> Event:
    """The next update event; a notice of an earlier insert may still be in flight."""
    while (event := await _next(subscription)).data.get("op") != "update":
        pass
    return event


async def test_an_event_published_in_a_transaction_arrives_after_commit(
    client: Client, conn: Any
) -> None:
    bus = client.app[events_key]
    with bus.subscribe("test.") as subscription:
        async with conn.begin():
            await publish(conn, "test.ping", {"n": 1})
            with pytest.raises(TimeoutError):
                await _next(subscription, within=0.3)
        assert await _next(subscription) == Event("test.ping", {"n": 1})


async def test_a_rolled_back_event_is_never_delivered(client: Client, conn: Any) -> None:
    bus = client.app[events_key]
    with bus.subscribe("test.") as subscription:
        transaction = await conn.begin()
        await publish(conn, "test.ping", {"n": 1})
        await transaction.rollback()
        with pytest.raises(TimeoutError):
            await _next(subscription, within=0.5)


async def test_a_vote_publishes_the_new_count_through_the_trigger(
    client: Client, conn: Any
) -> None:
    question = await queries.create_question(conn, "Live?", ["yes"])
    (only,) = await queries.get_choices(conn, question.id)
    with client.app[events_key].subscribe("polls.choice") as subscription:
        await queries.vote(conn, question.id, only.id)
        event = await _next_update(subscription)
    assert event.data == {
        "op": "update",
        "question_id": question.id,
        "choice_id": only.id,
        "votes": 1,
    }


def test_a_subscriber_that_falls_behind_is_told_to_drop_its_client() -> None:
    bus = EventBus()
    with bus.subscribe("t.", cap=3) as subscription:
        for n in range(5):
            bus.dispatch(Event("t.x", {"n": n}))
        assert subscription.overflowed
        assert subscription._queue.qsize() == 1  # bounded: only the overflow notice


async def test_the_listener_reconnects_and_subscribers_resynchronise(
    client: Client, clean_db: str, conn: Any
) -> None:
    bus = client.app[events_key]
    with bus.subscribe("test.") as subscription:
        # Kill the listening connection from the server side.
        killer = psycopg2.connect(clean_db)
        killer.autocommit = True
        with killer.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE query LIKE 'LISTEN portal_events%'"
            )
        killer.close()
        assert await _next(subscription, within=5) is RESYNC
        await publish(conn, "test.after", {})
        assert (await _next(subscription)).topic == "test.after"


async def test_results_socket_is_closed_going_away_at_shutdown(client: Client, conn: Any) -> None:
    question = await queries.create_question(conn, "Bye?", ["yes"])
    ws = await client.ws_connect(f"/polls/{question.id}/live")
    assert (await ws.receive_json())["type"] == "snapshot"
    runner = client.server.runner
    assert runner is not None
    await runner.shutdown()
    message = await ws.receive(timeout=5)
    assert message.type is aiohttp.WSMsgType.CLOSE
    assert message.data == aiohttp.WSCloseCode.GOING_AWAY


async def test_results_socket_sends_the_snapshot_then_each_vote(client: Client, conn: Any) -> None:
    question = await queries.create_question(conn, "Count?", ["a", "b"])
    a, b = await queries.get_choices(conn, question.id)
    ws = await client.ws_connect(f"/polls/{question.id}/live")
    snapshot = await ws.receive_json()
    assert snapshot == {
        "type": "snapshot",
        "choices": [
            {"id": a.id, "text": "a", "votes": 0},
            {"id": b.id, "text": "b", "votes": 0},
        ],
    }
    # A change made outside the app (psql, another service) reaches the page too.
    await conn.execute(choice.update().where(choice.c.id == b.id).values(votes=choice.c.votes + 1))
    assert await ws.receive_json(timeout=2) == {"type": "votes", "choice_id": b.id, "votes": 1}
    await ws.close()
