"""The tutorial's todos for a new site; running it again adds nothing."""

from __future__ import annotations

import contextlib

from portal.appkit import Conflict, Connection
from portal.apps.todos.queries import create_todo

__all__ = ["SAMPLE_TODOS", "seed"]

#: (name, finished), as in the aiohttp todo tutorial.
SAMPLE_TODOS: tuple[tuple[str, bool], ...] = (
    ("Start this tutorial", True),
    ("Finish this tutorial", False),
)


async def seed(conn: Connection) -> None:
    """Add each sample todo unless a todo of that name exists (it is left as it is)."""
    for name, finished in SAMPLE_TODOS:
        with contextlib.suppress(Conflict):
            await create_todo(conn, name, finished)
