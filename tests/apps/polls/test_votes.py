"""Votes arriving at once are all counted: one atomic UPDATE per vote."""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa

from portal.apps.polls import queries
from portal.apps.polls.tables import choice
from portal.testing import Client, csrf_token

CONCURRENT_VOTES = 100


async def test_concurrent_votes_on_one_choice_are_all_counted(client: Client, conn: Any) -> None:
    created = await queries.create_question(conn, "Busy?", ["Yes", "No"])
    yes, no = await queries.get_choices(conn, created.id)
    token = await csrf_token(client, f"/polls/{created.id}/")

    async def vote() -> int:
        response = await client.post(
            f"/polls/{created.id}/vote",
            data={"choice": str(yes.id), "csrf_token": token},
            allow_redirects=False,
        )
        return response.status

    statuses = await asyncio.gather(*(vote() for _ in range(CONCURRENT_VOTES)))

    assert statuses == [303] * CONCURRENT_VOTES
    counted = await conn.scalar(sa.select(choice.c.votes).where(choice.c.id == yes.id))
    assert counted == CONCURRENT_VOTES
    assert await conn.scalar(sa.select(choice.c.votes).where(choice.c.id == no.id)) == 0
