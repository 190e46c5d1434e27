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

The listener outlives database outages: it reconnects with backoff for as
long as the app runs (a restart of PostgreSQL, or a site started before its
database), logging the start of an outage and its end, not every attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import psycopg2
import sqlalchemy as sa
from aiohttp import web

from portal.platform.db import pool as dbpool
from portal.platform.db.engine import Connection, database_url_key
from portal.platform.db.faults import cancel_and_wait, describe

__all__ = [
    "CHANNEL",
    "RESYNC",
    "Event",
    "EventBus",
    "Subscription",
    "events_ctx",
    "events_key",
    "publish",
]

#: This process's end of the cross-process event channel (LISTEN/NOTIFY).
events_key: web.AppKey[EventBus] = web.AppKey("events_key")

log = logging.getLogger(__name__)

#: The one PostgreSQL channel every portal process listens on.
CHANNEL: Final = "portal_events"
#: NOTIFY payloads are limited to 8000 bytes: events carry ids and counts, not documents.
_MAX_PAYLOAD = 7900
#: Seconds between attempts to reconnect; the last repeats. Capped at one second so
#: live pages catch up within a second or so of PostgreSQL coming back from a restart.
_RECONNECT_DELAYS = (0.1, 0.25, 0.5, 1.0)
_HEALTH_CHECK_SECONDS = 15.0
#: One attempt to connect gives up after this long (aiopg's default is a minute).
_CONNECT_SECONDS = 5.0
#: How long start-up waits for the listener's first attempt to connect.
_STARTUP_WAIT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Event:
    """One event: a dotted topic (``polls.vote``) and a JSON object."""

    topic: str
    data: Mapping[str, Any]


#: Sent to every subscription after the listener reconnected: re-read the state.
RESYNC: Final = Event("platform.resync", {})


async def publish(conn: Connection, topic: str, data: Mapping[str, Any]) -> None:
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
        #: Set once the first attempt to connect has ended, either way.
        self.attempted = asyncio.Event()

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
        ever_connected = False
        while True:
            try:
                async with await dbpool.connect(url, time_limit=_CONNECT_SECONDS) as conn:
                    async with conn.cursor() as cur:
                        await cur.execute("LISTEN portal_events")  # the CHANNEL
                    self.connected.set()
                    self.attempted.set()
                    if ever_connected or attempt:
                        # Pages opened meanwhile may have missed events too.
                        log.info(
                            "event listener %s; subscribers resynchronise",
                            "reconnected" if ever_connected else "connected",
                        )
                        self.dispatch(RESYNC)
                    attempt = 0
                    ever_connected = True
                    await self._pump(conn)
            except asyncio.CancelledError:
                raise
            except (TimeoutError, psycopg2.Error, OSError) as exc:
                self.connected.clear()
                self.attempted.set()
                delay = _RECONNECT_DELAYS[min(attempt, len(_RECONNECT_DELAYS) - 1)]
                if attempt == 0:
                    log.warning(
                        "event listener %s (%s); retrying with backoff",
                        "lost its connection" if ever_connected else "cannot reach the database",
                        describe(exc),
                    )
                else:
                    log.debug("event listener still cannot connect (%s)", describe(exc))
                attempt += 1
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
    url = dbpool.with_application_name(app[database_url_key], "listen")
    task = asyncio.create_task(bus.listen(url), name="portal-events")
    try:
        # Start serving only once listening, so no event after start-up is
        # missed; but not waiting for a database that is down (it retries).
        await asyncio.wait_for(bus.attempted.wait(), _STARTUP_WAIT_SECONDS)
    except TimeoutError:
        log.warning("the event listener is not connected yet; live pages will catch up")
    try:
        yield
    finally:
        await cancel_and_wait(task)
