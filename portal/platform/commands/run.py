"""``run``: the production server, debug off."""

from __future__ import annotations

import argparse
import asyncio
import logging

from portal.platform.commands.base import Command, command_settings

__all__ = ["command"]

log = logging.getLogger("portal")


def _run(args: argparse.Namespace) -> int:
    import uvloop

    from portal.platform.db import embedded
    from portal.platform.root import build_site
    from portal.platform.serve.production import serve

    settings = command_settings(args, serving=True)
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = settings.with_overrides(**overrides)
    logging.getLogger().setLevel(settings.log_level.upper())
    # Started here rather than only in the app's context, to learn whether this
    # process owns the server: then it is stopped at exit, after the engine has
    # closed. A server that was already running (make run, another process) stays.
    owned = settings.embedded_database and embedded.ensure_running(settings.data_dir).started
    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(serve(build_site(settings), settings))
    finally:
        if owned:
            log.info("stopping the embedded PostgreSQL this process started")
            embedded.stop(settings.data_dir)
    return 0


def _arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="address to listen on (default: setting 'host')")
    parser.add_argument("--port", type=int, help="port to listen on (default: setting 'port')")


command = Command("run", "serve the site in production mode (debug off)", _run, _arguments)
