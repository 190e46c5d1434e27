"""``shell``: an asyncio REPL with the settings, the database and every table loaded.

Built as CPython's own ``python -m asyncio`` is: the event loop runs in the
main thread (so Ctrl-C cancels the statement being awaited, not the shell)
and the console reads lines in another, compiling each with top-level
``await`` allowed and handing it to the loop.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import code
import concurrent.futures
import contextlib
import importlib
import inspect
import keyword
import sys
import threading
import traceback
import types
from collections.abc import Iterable, Mapping
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from yarl import URL

from portal.platform.appspec import AppSpec
from portal.platform.commands.base import (
    Command,
    command_settings,
    database_url,
    installed_apps,
)
from portal.platform.db.engine import Connection

__all__ = ["AsyncConsole", "command", "load_tables"]


class AsyncConsole(code.InteractiveConsole):
    """An interactive console whose statements may ``await``, run on *loop*.

    Call :meth:`interact` from a thread other than the loop's.
    """

    def __init__(self, namespace: dict[str, Any], loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(namespace)
        self.compile.compiler.flags |= ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        self.loop = loop
        #: The statement being awaited on the loop, for Ctrl-C to cancel.
        self.running: asyncio.Task[Any] | None = None

    def runcode(self, code: types.CodeType) -> None:
        done: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def start() -> None:
            try:
                result = types.FunctionType(code, self.locals)()
            except BaseException as exc:  # shown to the user, whatever it is
                done.set_exception(exc)
                return
            if not inspect.iscoroutine(result):
                done.set_result(result)
                return
            self.running = self.loop.create_task(result)
            self.running.add_done_callback(finish)

        def finish(task: asyncio.Task[Any]) -> None:
            self.running = None
            if task.cancelled():
                done.set_exception(KeyboardInterrupt())
            elif (exc := task.exception()) is not None:
                done.set_exception(exc)
            else:
                done.set_result(task.result())

        self.loop.call_soon_threadsafe(start)
        try:
            done.result()
        except SystemExit:
            raise
        except KeyboardInterrupt:
            self.write("\nKeyboardInterrupt\n")
        except BaseException as exc:  # shown to the user, whatever it is
            self._show(exc)

    def _show(self, exc: BaseException) -> None:
        """The traceback from the user's own code on, without this module's frames."""
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != self.filename:
            tb = tb.tb_next
        sys.last_type, sys.last_value, sys.last_traceback = type(exc), exc, tb
        self.write("".join(traceback.format_exception(type(exc), exc, tb)))


def load_tables(specs: Iterable[AppSpec]) -> dict[str, dict[str, sa.Table]]:
    """Every table by name, grouped by owner: ``platform`` first, then each app.

    The platform's tables are those of its ``tables.py`` modules, wherever
    they sit under ``portal/platform/``; an app's are its spec's ``metadata``.
    """
    import portal.platform

    groups: dict[str, dict[str, sa.Table]] = {}
    seen: set[int] = set()

    def add(owner: str, tables: Iterable[sa.Table]) -> None:
        for table in tables:
            if id(table) not in seen:
                seen.add(id(table))
                groups.setdefault(owner, {})[table.name] = table

    root = Path(portal.platform.__file__).parent
    for path in sorted(root.glob("**/tables.py")):
        parts = path.relative_to(root).with_suffix("").parts
        module = importlib.import_module(".".join(("portal.platform", *parts)))
        for value in vars(module).values():
            if isinstance(value, sa.MetaData):
                add("platform", value.sorted_tables)
            elif isinstance(value, sa.Table):
                add("platform", [value])
    for spec in specs:
        if spec.metadata is not None:
            add(spec.name, spec.metadata.sorted_tables)
    return groups


def _namespace(
    settings: Any,
    engine: Any,
    conn: Connection,
    specs: tuple[AppSpec, ...],
    groups: Mapping[str, Mapping[str, sa.Table]],
) -> tuple[dict[str, Any], list[str]]:
    """The shell's names, and the tables that could not be one (shown in ``tables`` only)."""
    tables = {name: table for group in groups.values() for name, table in group.items()}
    namespace: dict[str, Any] = {
        "__name__": "__console__",
        "asyncio": asyncio,
        "sa": sa,
        "settings": settings,
        "engine": engine,
        "conn": conn,
        "apps": {spec.name: spec for spec in specs},
        "tables": tables,
    }
    hidden = []
    for name, table in tables.items():
        # A table named like a shell name (or a keyword) would hide it.
        if name.isidentifier() and not keyword.iskeyword(name) and name not in namespace:
            namespace[name] = table
        else:
            hidden.append(name)
    return namespace, hidden


def _banner(url: str, groups: Mapping[str, Mapping[str, sa.Table]], hidden: list[str]) -> str:
    shown = URL(url).with_password(None) if "://" in url else "(configured)"
    lines = [
        f"portal shell (asyncio REPL, Python {sys.version.split()[0]}): use await directly.",
        f"  database  {shown}",
        "  conn      an aiopg.sa connection, autocommit: await conn.scalar(sa.select(...))",
        "  engine    its pool, for more: async with engine.acquire() as other: ...",
        "  settings  the settings; apps: the installed apps' specs; sa: sqlalchemy; asyncio",
        "  tables    every table by name, and each as a name of its own:",
    ]
    lines += [f"    {owner}: {', '.join(group)}" for owner, group in groups.items()]
    if hidden:
        lines.append(f"  only as tables[...] (their names are taken): {', '.join(hidden)}")
    return "\n".join(lines)


def _shell(args: argparse.Namespace) -> int:
    from portal.platform.db.engine import create_engine
    from portal.platform.db.pool import with_application_name

    settings = command_settings(args)
    specs = installed_apps(settings)
    url = database_url(settings)  # starts the embedded PostgreSQL if need be
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    resources = AsyncExitStack()

    async def open_database() -> tuple[Any, Any]:
        engine = await create_engine(with_application_name(url, "shell"), minsize=1, maxsize=4)

        async def close() -> None:
            engine.close()
            await engine.wait_closed()

        resources.push_async_callback(close)
        conn = await resources.enter_async_context(engine.acquire())
        return engine, conn

    try:
        engine, conn = loop.run_until_complete(open_database())
        groups = load_tables(specs)
        namespace, hidden = _namespace(settings, engine, conn, specs, groups)
        _run(AsyncConsole(namespace, loop), loop, _banner(url, groups, hidden))
    finally:
        loop.run_until_complete(resources.aclose())
        loop.close()
        asyncio.set_event_loop(None)
    return 0


def _run(console: AsyncConsole, loop: asyncio.AbstractEventLoop, banner: str) -> None:
    """Read statements in a thread while the loop runs here, until end of input."""
    if sys.stdin.isatty():
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401 - line editing and history for input()

    def read() -> None:
        try:
            console.interact(banner=banner, exitmsg="")
        finally:
            loop.call_soon_threadsafe(loop.stop)

    # A daemon: a statement that never returns must not keep the process alive.
    threading.Thread(target=read, name="portal-shell", daemon=True).start()
    while True:
        try:
            loop.run_forever()
        except KeyboardInterrupt:
            if console.running is not None:
                console.running.cancel()
            continue
        break


command = Command(
    "shell", "an asyncio REPL with the settings, the database and every table", _shell
)
