"""Start-up and cleanup hooks a sub-app gets from the platform."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from portal.platform.keys import config_of, db_key

__all__ = ["log_lifecycle"]


def log_lifecycle(
    app: web.Application, name: str, noun: str, count: Callable[[Any], Awaitable[int]]
) -> None:
    """Log when *app* is ready, with how many *noun* it holds, and when it stops.

    The start-up hook also proves the shared engine is reachable from the
    sub-app: the root's cleanup contexts have run before sub-app start-up hooks.
    """
    log = logging.getLogger(f"portal.apps.{name}")

    async def on_startup(app: web.Application) -> None:
        async with config_of(app)[db_key].acquire() as conn:
            log.info("%s ready with %d %s", name, await count(conn), noun)

    async def on_cleanup(app: web.Application) -> None:
        log.info("%s stopped", name)

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
