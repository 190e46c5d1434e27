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
    session[_SESSION_KEY] = [*_queued(session.get(_SESSION_KEY)), [category, message]]


def pop_flashes(session: Session) -> list[tuple[str, str]]:
    """The queued messages, oldest first; the queue is emptied."""
    if _SESSION_KEY not in session:
        # Reading must not mark an untouched session changed (no Set-Cookie).
        return []
    return [
        (str(category), str(message)) for category, message in _queued(session.pop(_SESSION_KEY))
    ]


def _queued(stored: object) -> list[list[str]]:
    """The ``[category, message]`` pairs in what the session holds; anything else is dropped.

    The session is a cookie: what it holds may have been written by an older
    version, so it is read, never trusted to have the expected shape.
    """
    if not isinstance(stored, list):
        return []
    return [
        list(map(str, entry)) for entry in stored if isinstance(entry, list) and len(entry) == 2
    ]
