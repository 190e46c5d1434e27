"""Start-up and cleanup hooks a sub-app gets from the platform."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any, Final

from aiohttp import web

from portal.platform.db.engine import db_key
from portal.platform.db.faults import NO_ANSWER, describe
from portal.platform.keys import config_of

__all__ = ["QUICK_FREEZE_ENV", "freeze_startup_objects", "log_lifecycle"]

#: The start-up count is a courtesy: it never holds start-up up for longer.
_COUNT_SECONDS: Final = 2.0

#: Set to ``1`` by test suites only (``portal.testing`` does): start-up freezes
#: without the full collection first. A suite starts a site per test in one
#: process whose heap (every test module, every collected test) that collection
#: walks each time: ~0.2 s of CPU a test, minutes a suite. The garbage it would
#: have kept out of the frozen set is handed back at the site's cleanup anyway.
QUICK_FREEZE_ENV: Final = "PORTAL_QUICK_GC_FREEZE"


def log_lifecycle(
    app: web.Application, name: str, noun: str, count: Callable[[Any], Awaitable[int]]
) -> None:
    """Log when *app* is ready, with how many *noun* it holds, and when it stops.

    The count also shows the shared engine is reachable from the sub-app (the
    root's cleanup contexts have run before sub-app start-up hooks). It is
    left out, never failing start-up, when the database is not there: the
    site starts without it and serves once it answers.
    """
    log = logging.getLogger(f"portal.apps.{name}")

    async def on_startup(app: web.Application) -> None:
        engine = config_of(app)[db_key]
        if engine.unavailable is not None:
            log.info("%s ready; no count of its %s (database: %s)", name, noun, engine.unavailable)
            return
        try:
            async with asyncio.timeout(_COUNT_SECONDS), engine.acquire() as conn:
                counted = await count(conn)
        except NO_ANSWER as exc:
            log.warning("%s ready; could not count its %s (%s)", name, noun, describe(exc))
            return
        log.info("%s ready with %d %s", name, counted, noun)

    async def on_cleanup(app: web.Application) -> None:
        log.info("%s stopped", name)

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)


def freeze_startup_objects(app: web.Application) -> None:
    """Exempt everything built before *app* serves from garbage collection.

    The modules, routes, templates and compiled statements live as long as the
    app, yet a full collection walks them all (~15 ms for ~75,000 objects): a
    pause every few thousand requests that shows in the p99 latency. The last
    start-up hook moves them out of the collector's way with ``gc.freeze()``;
    cleanup hands them back, so an app that stops (in tests, many do) can
    still be collected.
    """

    async def freeze(app: web.Application) -> None:
        if os.environ.get(QUICK_FREEZE_ENV) != "1":
            gc.collect()
        gc.freeze()

    async def unfreeze(app: web.Application) -> None:
        gc.unfreeze()

    app.on_startup.append(freeze)
    app.on_cleanup.append(unfreeze)
