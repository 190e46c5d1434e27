"""Cross-process events over PostgreSQL ``LISTEN/NOTIFY``: the platform's event channel.

Any app publishes inside its own transaction (``await publish(conn, "polls.vote",
{...})``): PostgreSQL delivers the notification to every listening process
when, and only if, that transaction commits. Each process keeps one dedicated
connection listening (opened and closed in the root's ``cleanup_ctx``) and fans
each event out to that process's subscribers, e.g. one per open WebSocket.

Guarantees, and what a subscriber must do about their limits:

- Bounded: each subscription has a queue with a cap; a subscriber that falls
  behind (a slow or dead client) is marked overflowed and must drop its
  client, so server memory does not grow with it.
- Resynchronisation: when the listening connection is lost, events sent
  meanwhile are gone. After reconnecting, every subscription receives
  :data:`RESYNC`; the subscriber re-reads the current state instead of
  silently missing what happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import aiopg
import psycopg2
import sqlalchemy as sa
from aiohttp import web

from portal.platform.keys import database_url_key, events_key

__all__ = [
    "CHANNEL",
    "RESYNC",
    "Event",
    "EventBus",
    "Subscription",
    "events_ctx",
    "publish",
]

log = logging.getLogger(__name__)

#: The one PostgreSQL channel every portal process listens on.
CHANNEL: Final = "portal_events"
#: NOTIFY payloads are limited to 8000 bytes: events carry ids and counts, not documents.
_MAX_PAYLOAD = 7900
_RECONNECT_DELAYS = (0.1, 0.25, 0.5, 1.0, 2.0)
_HEALTH_CHECK_SECONDS = 15.0


@dataclass(frozen=True, slots=True)
class Event:
    """One event: a dotted topic (``polls.vote``) and a JSON object."""

    topic: str
    data: Mapping[str, Any]


#: Sent to every subscription after the listener reconnected: re-read the state.
RESYNC: Final = Event("platform.resync", {})


async def publish(conn: Any, topic: str, data: Mapping[str, Any]) -> None:
    """Publish *topic* with *data* to every process, when *conn*'s transaction commits."""
    payload = json.dumps({"topic": topic, "data": data}, separators=(",", ":"))
    if len(payload.encode()) > _MAX_PAYLOAD:
        raise ValueError(f"event {topic!r} is too large for NOTIFY ({len(payload)} bytes)")
    await conn.execute(sa.select(sa.func.pg_notify(CHANNEL, payload)))


@dataclass(eq=False)
class Subscription:
    """Events for one subscriber, in order, up to *cap* waiting at once."""

    prefix: str
    cap: int
    _queue: asyncio.Queue[Event] = field(init=False)
    overflowed: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self._queue = asyncio.Queue(self.cap)

    def wants(self, event: Event) -> bool:
        return event is RESYNC or event.topic.startswith(self.prefix)

    def offer(self, event: Event) -> None:
        if self.overflowed:
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            # The subscriber cannot keep up; it is told to give up its client
            # rather than this process buffering without bound.
            self.overflowed = True
            self._queue = asyncio.Queue(1)
            self._queue.put_nowait(Event("platform.overflow", {}))

    async def get(self) -> Event:
        """The next event; ``platform.overflow`` means: drop your client."""
        return await self._queue.get()


class EventBus:
    """This process's listener and its subscribers (see the module docstring)."""

    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()
        self.connected = asyncio.Event()

    @contextlib.contextmanager
    def subscribe(self, prefix: str, cap: int = 100) -> Any:
        """Receive the events whose topic starts with *prefix* while in the block."""
        subscription = Subscription(prefix, cap)
        self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)

    @property
    def subscribers(self) -> int:
        return len(self._subscriptions)

    def dispatch(self, event: Event) -> None:
        """Hand *event* to every subscription that wants it (never blocks)."""
        for subscription in list(self._subscriptions):
            if subscription.wants(event):
                subscription.offer(event)

    def _receive(self, payload: str) -> None:
        try:
            message = json.loads(payload)
            event = Event(str(message["topic"]), dict(message["data"]))
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring a malformed event on %s", CHANNEL)
            return
        self.dispatch(event)

    async def listen(self, url: str) -> None:
        """Listen until cancelled, reconnecting (and resynchronising) after any loss."""
        attempt = 0
        first = True
        while True:
            try:
                async with aiopg.connect(url) as conn:
                    async with conn.cursor() as cur:
                        await cur.execute("LISTEN portal_events")  # the CHANNEL
                    attempt = 0
                    self.connected.set()
                    if not first:
                        log.info("event listener reconnected; subscribers resynchronise")
                        self.dispatch(RESYNC)
                    first = False
                    await self._pump(conn)
            except asyncio.CancelledError:
                raise
            except (TimeoutError, psycopg2.Error, OSError) as exc:
                self.connected.clear()
                delay = _RECONNECT_DELAYS[min(attempt, len(_RECONNECT_DELAYS) - 1)]
                attempt += 1
                log.warning("event listener lost its connection (%s); retrying in %ss", exc, delay)
                await asyncio.sleep(delay)

    async def _pump(self, conn: Any) -> None:
        while True:
            try:
                # Not wait_for: on Python 3.11 it swallows a cancellation that
                # arrives while a notification is ready, and shutdown then hangs.
                async with asyncio.timeout(_HEALTH_CHECK_SECONDS):
                    message = await conn.notifies.get()
            except TimeoutError:
                # Quiet for a while: prove the connection is still alive.
                async with conn.cursor(timeout=5) as cur:
                    await cur.execute("SELECT 1")
                continue
            self._receive(message.payload)


async def events_ctx(app: web.Application) -> AsyncIterator[None]:
    """Run this process's listener for the app's lifetime."""
    bus = app[events_key]
    task = asyncio.create_task(bus.listen(app[database_url_key]), name="portal-events")
    try:
        # Start serving only once listening, so no event after start-up is missed.
        await asyncio.wait_for(bus.connected.wait(), 10)
    except TimeoutError:
        log.warning("the event listener is not connected yet; live pages will catch up")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
