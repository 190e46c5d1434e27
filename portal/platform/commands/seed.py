"""``seed``: every installed app's sample data, idempotently."""

from __future__ import annotations

import argparse
import asyncio

from portal.platform.commands.base import Command, command_settings, database_url

__all__ = ["command"]


def _seed(args: argparse.Namespace) -> int:
    from portal.main import INSTALLED_APPS
    from portal.platform.db import connect

    async def seed_all() -> None:
        async with connect(database_url(command_settings(args))) as conn:
            for spec in INSTALLED_APPS:
                if spec.seed is not None:
                    async with conn.begin():
                        await spec.seed(conn)
                    print(f"Sample data for {spec.name} is loaded.")

    asyncio.run(seed_all())
    return 0


command = Command("seed", "load the sample data (running it twice adds nothing)", _seed)
