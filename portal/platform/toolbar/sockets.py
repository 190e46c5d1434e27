"""The live sockets panel: the sockets open now and the last messages they sent."""

from __future__ import annotations

import datetime as dt
import json
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web
from aiohttp_debugtoolbar.panels.base import DebugPanel

__all__ = ["OpenSocket", "SentMessage", "SocketLog", "SocketsPanel", "socket_log_key"]

#: How many sent messages the log keeps, all sockets together.
KEEP_MESSAGES: Final = 50
#: A message's JSON is cut here in the panel.
_PREVIEW_LIMIT: Final = 300


def _now() -> dt.datetime:
    return dt.datetime.now().astimezone()


@dataclass(slots=True)
class OpenSocket:
    """A live socket that is open: whose page it serves and how much it sent."""

    path: str
    topic: str
    opened: dt.datetime
    sent: int = 0


@dataclass(frozen=True, slots=True)
class SentMessage:
    """One message a live socket sent, cut short for display."""

    at: dt.datetime
    path: str
    preview: str


class SocketLog:
    """The live sockets, as :func:`portal.platform.live.sockets.event_socket` reports them.

    A :class:`portal.platform.live.sockets.SocketObserver`, bounded: it keeps the
    open sockets and the last :data:`KEEP_MESSAGES` messages, never more.
    """

    def __init__(self, keep: int = KEEP_MESSAGES) -> None:
        self.open: dict[int, OpenSocket] = {}
        self.messages: deque[SentMessage] = deque(maxlen=keep)

    def opened(self, request: web.Request, ws: web.WebSocketResponse, topic: str) -> None:
        """Note a socket that has just opened for *request*."""
        # Keyed by identity: the entry goes when the socket closes, before ws can be freed.
        self.open[id(ws)] = OpenSocket(request.path, topic, _now())

    def sent(self, ws: web.WebSocketResponse, message: Mapping[str, Any]) -> None:
        """Note *message*, just sent on *ws*."""
        socket = self.open.get(id(ws))
        if socket is None:
            return
        socket.sent += 1
        text = json.dumps(dict(message), default=str)
        if len(text) > _PREVIEW_LIMIT:
            text = text[:_PREVIEW_LIMIT] + "…"
        self.messages.appendleft(SentMessage(_now(), socket.path, text))

    def closed(self, ws: web.WebSocketResponse) -> None:
        """Forget *ws*: it has closed."""
        self.open.pop(id(ws), None)


#: The root's socket log (debug only).
socket_log_key = web.AppKey("socket_log_key", SocketLog)


class SocketsPanel(DebugPanel):
    """The live sockets open and their recent messages, as they are when the toolbar is viewed."""

    name = "Sockets"
    has_content = True
    template = "portal_sockets.jinja2"
    title = "Live sockets (now)"
    nav_title = "Live sockets"

    def render_vars(self, request: web.Request) -> dict[str, Any]:
        log = request.app[socket_log_key]
        return {"sockets": list(log.open.values()), "messages": list(log.messages)}
