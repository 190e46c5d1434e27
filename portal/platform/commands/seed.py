"""``seed``: every installed app's sample data, idempotently."""

from __future__ import annotations

import argparse
import asyncio

from portal.platform.commands.base import (
    Command,
    command_settings,
    database_url,
    installed_apps,
)

__all__ = ["command"]


def _seed(args: argparse.Namespace) -> int:
    from portal.platform.db.engine import connect

    settings = command_settings(args)

    async def seed_all() -> None:
        async with connect(database_url(settings)) as conn:
            for spec in installed_apps(settings):
                if spec.seed is not None:
                    async with conn.begin():
                        await spec.seed(conn)
                    print(f"Sample data for {spec.name} is loaded.")

    asyncio.run(seed_all())
    return 0


command = Command("seed", "load the sample data (running it twice adds nothing)", _seed)
