"""One-time messages: set by a view, shown by the shared layout on the next page.

The messages wait in the session, which is a cookie, and a browser drops a
cookie over 4 KB (silently logging the user out). A client that never
follows its redirects (forty votes in a row, say) would pile them up, so the
queue is bounded: a message repeated while unread is kept once with a count,
only the newest :data:`MAX_FLASHES` are kept, and each is cut to
:data:`MAX_MESSAGE_BYTES` as the session stores it. The whole queue then
never takes more than about 1.3 KB of the cookie.
"""

from __future__ import annotations

import json
from typing import Final, Literal

from aiohttp import web
from aiohttp_session import Session, get_session

__all__ = ["MAX_FLASHES", "MAX_MESSAGE_BYTES", "Category", "flash", "pop_flashes"]

Category = Literal["info", "success", "warning", "error"]
_SESSION_KEY = "_flash"

#: How many unread messages the session keeps: the newest.
MAX_FLASHES: Final = 5
#: How long a message may be as the session stores it: JSON text, where a
#: character outside ASCII takes six bytes (``\\u00e9``) or twelve.
MAX_MESSAGE_BYTES: Final = 240
_ELLIPSIS: Final = "…"

#: ``[category, message, count]``: what the session holds for one message.
_Entry = list[str | int]


async def flash(request: web.Request, message: str, category: Category = "info") -> None:
    """Queue *message* for the next page this session renders.

    The same message queued again before it is shown moves to the end of the
    queue and counts one more, rather than taking another place.
    """
    session = await get_session(request)
    message = _cut(message)
    queued = _queued(session.get(_SESSION_KEY))
    count = 1
    for entry in queued:
        if entry[:2] == [category, message]:
            count += int(entry[2])
            queued.remove(entry)
            break
    session[_SESSION_KEY] = [*queued, [category, message, count]][-MAX_FLASHES:]


def pop_flashes(session: Session) -> list[tuple[str, str]]:
    """The queued messages, oldest first (a repeated one with its count); the queue is emptied."""
    if _SESSION_KEY not in session:
        # Reading must not mark an untouched session changed (no Set-Cookie).
        return []
    return [
        (
            str(category),
            f"{message} (\N{MULTIPLICATION SIGN}{count})" if int(count) > 1 else str(message),
        )
        for category, message, count in _queued(session.pop(_SESSION_KEY))
    ]


def _cut(message: str) -> str:
    """*message*, cut short with an ellipsis if the session would store more than
    :data:`MAX_MESSAGE_BYTES` of it."""
    if len(_stored(message)) <= MAX_MESSAGE_BYTES:
        return message
    room = MAX_MESSAGE_BYTES - len(_stored(_ELLIPSIS))
    size = 0
    for index, char in enumerate(message):
        # Each character's own JSON text, without the quotes around it.
        size += len(_stored(char)) - 2
        if size > room:
            return message[:index] + _ELLIPSIS
    return message


def _stored(text: str) -> str:
    """*text* as the session's cookie encodes it (``json.dumps``, ASCII only)."""
    return json.dumps(text)


def _queued(stored: object) -> list[_Entry]:
    """The ``[category, message, count]`` entries in what the session holds.

    The session is a cookie: what it holds may have been written by an older
    version (``[category, message]`` pairs, no count), so it is read, never
    trusted to have the expected shape; anything else is dropped, and never
    more than :data:`MAX_FLASHES` entries are kept.
    """
    if not isinstance(stored, list):
        return []
    entries: list[_Entry] = []
    for entry in stored[-MAX_FLASHES:]:
        if not isinstance(entry, list) or len(entry) not in (2, 3):
            continue
        count = entry[2] if len(entry) == 3 else 1
        if type(count) is not int or count < 1:
            count = 1
        entries.append([str(entry[0]), _cut(str(entry[1])), count])
    return entries
