"""Live pages: one WebSocket per open page, fed by the platform's event channel.

:func:`event_socket` is the whole server side of a live page: it sends a
snapshot of the current state, then one message per relevant event, a fresh
snapshot after the event listener reconnected, and drops a client that cannot
keep up. Sockets are closed with "going away" when the server shuts down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from typing import Any, Protocol

from aiohttp import WSCloseCode, WSMsgType, web

from portal.platform.live.events import RESYNC, Event, events_key

__all__ = [
    "Snapshot",
    "SocketObserver",
    "Translate",
    "close_sockets",
    "event_socket",
    "new_socket_registry",
    "socket_observer",
    "sockets_key",
]

#: This process's open live-page WebSockets, closed with "going away" at shutdown.
sockets_key: web.AppKey[weakref.WeakSet[web.WebSocketResponse]] = web.AppKey("sockets_key")

log = logging.getLogger(__name__)

#: Reads the current state, as the first message and after a resynchronisation.
Snapshot = Callable[[], Awaitable[Mapping[str, Any]]]
#: Turns an event into a message for this socket, or None to skip it.
Translate = Callable[[Event], Awaitable[Mapping[str, Any] | None]]


class SocketObserver(Protocol):
    """Told when a live socket opens, what it sends, and when it closes."""

    def opened(self, request: web.Request, ws: web.WebSocketResponse, topic: str) -> None: ...

    def sent(self, ws: web.WebSocketResponse, message: Mapping[str, Any]) -> None: ...

    def closed(self, ws: web.WebSocketResponse) -> None: ...


#: Set only by the debug toolbar (its sockets panel) for the socket's request;
#: with debug off it stays None and costs one lookup per message.
socket_observer: ContextVar[SocketObserver | None] = ContextVar(
    "portal_socket_observer", default=None
)

_HEARTBEAT_SECONDS = 20.0
_SEND_TIMEOUT_SECONDS = 5.0
#: Events waiting for one socket before it counts as too slow and is dropped.
QUEUE_CAP = 100


def new_socket_registry() -> weakref.WeakSet[web.WebSocketResponse]:
    """The set of open sockets, for closing them at shutdown."""
    return weakref.WeakSet()


async def close_sockets(app: web.Application) -> None:
    """``on_shutdown``: tell every open live page the server is going away."""
    registry: weakref.WeakSet[web.WebSocketResponse] = app[sockets_key]
    sockets = list(registry)
    await asyncio.gather(
        *(ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown") for ws in sockets),
        return_exceptions=True,
    )


async def _send(ws: web.WebSocketResponse, message: Mapping[str, Any]) -> None:
    await asyncio.wait_for(ws.send_json(dict(message)), _SEND_TIMEOUT_SECONDS)
    observer = socket_observer.get()
    if observer is not None:
        observer.sent(ws, message)


async def _drain(ws: web.WebSocketResponse) -> None:
    # Clients only listen; reading is how a close (or a dead peer) is noticed.
    async for message in ws:
        if message.type is WSMsgType.ERROR:
            break


async def event_socket(
    request: web.Request, *, topic: str, snapshot: Snapshot, translate: Translate
) -> web.WebSocketResponse:
    """Serve one live page's socket: events whose topic starts with *topic*."""
    ws = web.WebSocketResponse(heartbeat=_HEARTBEAT_SECONDS)
    await ws.prepare(request)
    request.config_dict[sockets_key].add(ws)
    observer = socket_observer.get()
    if observer is not None:
        observer.opened(request, ws, topic)
    bus = request.config_dict[events_key]
    reader = asyncio.create_task(_drain(ws))
    try:
        with bus.subscribe(topic, cap=QUEUE_CAP) as subscription:
            await _send(ws, {"type": "snapshot", **await snapshot()})
            while not reader.done():
                getter = asyncio.ensure_future(subscription.get())
                done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    break
                event = getter.result()
                if event.topic == "platform.overflow":
                    log.info("dropping a live client that fell %d events behind", QUEUE_CAP)
                    await ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"too slow")
                    break
                if event is RESYNC:
                    message: Mapping[str, Any] | None = {"type": "snapshot", **await snapshot()}
                else:
                    message = await translate(event)
                if message is not None:
                    await _send(ws, message)
    except (TimeoutError, ConnectionResetError):
        # A client that does not read within the send timeout is dropped.
        log.info("dropping a live client that stopped reading")
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        if not ws.closed:
            await ws.close()
        if observer is not None:
            observer.closed(ws)
    return ws
