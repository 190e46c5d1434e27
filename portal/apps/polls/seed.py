"""Sample polls for a new site; running it again adds nothing."""

from __future__ import annotations

import sqlalchemy as sa

from portal.appkit import Connection
from portal.apps.polls.queries import create_question
from portal.apps.polls.tables import question

__all__ = ["SAMPLE_QUESTIONS", "seed"]

SAMPLE_QUESTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("What's new?", ("Not much", "The sky", "Just hacking again")),
    ("Which Python web framework do you reach for first?", ("aiohttp", "Django", "Flask")),
    ("Tabs or spaces?", ("Tabs", "Spaces")),
)


async def seed(conn: Connection) -> None:
    """Add each sample question unless a question with its text exists."""
    for text, choices in SAMPLE_QUESTIONS:
        exists = await conn.scalar(sa.select(sa.exists().where(question.c.question_text == text)))
        if not exists:
            await create_question(conn, text, choices)
