"""One-time messages: set by a view, shown by the shared layout on the next page."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from aiohttp_session import Session, get_session

__all__ = ["Category", "flash", "pop_flashes"]

Category = Literal["info", "success", "warning", "error"]
_SESSION_KEY = "_flash"


async def flash(request: web.Request, message: str, category: Category = "info") -> None:
    """Queue *message* for the next page this session renders."""
    session = await get_session(request)
    queued = list(session.get(_SESSION_KEY, []))
    queued.append([category, message])
    session[_SESSION_KEY] = queued


def pop_flashes(session: Session) -> list[tuple[str, str]]:
    """The queued messages, oldest first; the queue is emptied."""
    if _SESSION_KEY not in session:
        # Reading must not mark an untouched session changed (no Set-Cookie).
        return []
    return [(str(category), str(message)) for category, message in session.pop(_SESSION_KEY)]
