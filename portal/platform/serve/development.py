"""``adev runserver portal``, made trustworthy: portal's own runner inside aiohttp-devtools.

adev imports ``portal.main`` to find ``get_app()``, in its watching process
and again in each server process it spawns; ``portal.main`` then calls
:func:`adopt_adev`, which replaces the parts of aiohttp-devtools 1.1.2 that
fail a developer (its fixes are merged upstream but unreleased):

- **The watcher.** adev treats every saved file as a static file when no
  static folder is configured, so a file written in place (as editors save)
  raised ``ValueError`` and the watcher died: nothing reloaded again, silently.
  :class:`DevServerTask` sorts each batch of changes itself - Python restarts
  the server, CSS is swapped in place by livereload, anything else reloads the
  page - and a failure handling one batch is logged and the watching goes on.
  If the watcher itself ever stops, the terminal and every open page say so.
- **The address.** adev binds ``0.0.0.0`` whatever it is told. The site and
  livereload listen on the ``host`` setting (``PORTAL_HOST``, default
  ``127.0.0.1``: only this machine) and the URL printed is the one served.
- **The server process.** :func:`serve` starts the app; when it cannot (a
  syntax error, a module that fails to import, a database not migrated), it
  prints the error in one short block and serves it as a page that carries
  livereload, so the browser shows it and comes back by itself once a save
  fixes it.
- **The request log.** adev's access log printed every 4xx with all its
  headers (bearer tokens and session cookies included) and its body; here the
  only request log is ``portal.access``: one line per request, no header.

Nothing here is imported with ``python -m portal run``, gunicorn or the tests'
app factory.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import multiprocessing
import os
import signal
import sys
import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from multiprocessing import Process
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any, Final

from aiohttp import ClientError, ClientSession, ClientTimeout, web
from aiohttp_devtools.runserver import config as adev_config
from aiohttp_devtools.runserver import main as adev_main
from aiohttp_devtools.runserver import serve as adev_serve
from aiohttp_devtools.runserver import watch as adev_watch

__all__ = [
    "DevServerTask",
    "StartFailure",
    "adopt_adev",
    "classify",
    "serve",
    "served_url",
]

#: The watching process logs through adev's own logger, which adev has set up.
log = adev_watch.logger

#: How long a restarted server may take to answer before the pages are told anyway.
RESTART_WAIT: Final = 15.0
#: Files whose change needs a new server process, not just a new page.
CODE_SUFFIXES: Final = frozenset({".py"})
#: Files livereload swaps into an open page without reloading it.
STYLE_SUFFIXES: Final = frozenset({".css"})
_ROOT: Final = Path(__file__).resolve().parents[3]
#: Bind addresses meaning every interface (the developer opts in with ``make run HOST=0.0.0.0``).
_EVERY_INTERFACE: Final = frozenset({"0.0.0.0", "::", ""})  # noqa: S104


def adopt_adev() -> None:
    """Make the running ``adev runserver`` use portal's runner (see the module's docstring).

    Safe to call more than once; does nothing to anything but aiohttp-devtools.
    """
    host = _bind_host()
    adev_serve.HOST = host  # checked free by adev, and bound by the aux (livereload) app
    adev_main.HOST = host
    adev_main.AppTask = DevServerTask
    adev_watch.serve_main_app = serve


def _bind_host() -> str:
    """The ``host`` setting, read the way every portal command reads it."""
    from portal.settings import SettingsError, load_settings

    try:
        return load_settings(debug_default=True).host
    except SettingsError as exc:
        sys.exit(f"portal: {exc}")


def served_url(host: str, port: int) -> str:
    """The address to open for a server bound to *host*: every interface is reached locally."""
    if host in _EVERY_INTERFACE:
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def classify(paths: Iterable[str]) -> tuple[str, list[str]]:
    """What a batch of changed files needs, and the files that tell.

    The action is ``"restart"`` (a module added, changed or deleted),
    ``"styles"`` (only stylesheets) or ``"page"``. Files gone by now are an
    editor's or ``sed -i``'s temporary files, written and renamed over the
    real one: they say nothing about what changed.
    """
    paths = list(paths)
    present = [path for path in paths if Path(path).exists()] or paths
    if any(Path(path).suffix in CODE_SUFFIXES for path in paths):
        return "restart", present
    if all(Path(path).suffix.lower() in STYLE_SUFFIXES for path in present):
        return "styles", present
    return "page", present


def _shown(path: str) -> str:
    with contextlib.suppress(ValueError):
        return str(Path(path).relative_to(Path.cwd()))
    return path


class DevServerTask(adev_watch.AppTask):  # type: ignore[misc]  # untyped library
    """adev's watcher and server process, with portal's handling of each change."""

    _session: ClientSession | None = None

    def __init__(self, config: adev_config.Config) -> None:
        super().__init__(config)
        self._host = adev_serve.HOST

    def _start_dev_server(self, go: Event | None = None) -> None:
        act = "Starting" if self._reloads == 0 else "Restarting"
        url = served_url(self._host, self._config.main_port)
        if self._host in _EVERY_INTERFACE:
            log.info(
                "%s dev server at %s ● (listening on every interface: other machines "
                "need their name for it in allowed_hosts)",
                act,
                url,
            )
        else:
            log.info("%s dev server at %s ●", act, url)
        try:
            tty_path: str | None = os.ttyname(sys.stdin.fileno())
        except OSError:
            tty_path = "/dev/tty"
        self._process = Process(target=serve, args=(self._config, tty_path, self._host, go))
        self._process.start()

    async def _restart(self) -> None:
        """A new server process for the new code, importing while the old one stops."""
        old = self._process
        # Kept until the next restart: the semaphore behind it is removed once
        # the parent lets go, and the new process may not have opened it yet.
        self._go = go = multiprocessing.Event()
        self._start_dev_server(go)
        try:
            await _stop(old)
        finally:
            go.set()

    async def _run(self, live_checks: int = 150) -> None:
        self._session = ClientSession(timeout=ClientTimeout(total=1))
        self._start_dev_server()
        try:
            async for changes in self._awatch:
                self._reloads += 1
                paths = sorted({path for _, path in changes})
                try:
                    await self.apply(paths)
                except Exception:
                    log.exception("handling the change of %s failed; still watching", paths)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            await self._watcher_stopped(exc)
            raise

    async def apply(self, paths: list[str]) -> None:
        """Bring the open pages up to date with *paths*, just saved."""
        action, changed = classify(paths)
        names = ", ".join(_shown(path) for path in changed)
        if action == "restart":
            log.info("%s changed: restarting the server", names)
            started = time.monotonic()
            await self._restart()
            if await self._wait_until_answering():
                log.info("server answering after %.1fs", time.monotonic() - started)
            await adev_serve.src_reload(self._app)
        elif action == "styles":
            log.info("%s changed: updating stylesheets in place", names)
            for path in changed:
                await _broadcast(self._app, {"command": "reload", "path": _shown(path)})
        else:
            log.info("%s changed: reloading pages", names)
            await adev_serve.src_reload(self._app)

    async def _wait_until_answering(self) -> bool:
        """Poll the new server process until it answers (its error page counts)."""
        session = self._session
        if session is None:  # not started
            return False
        url = served_url(self._host, self._config.main_port) + "healthz"
        deadline = time.monotonic() + RESTART_WAIT
        while time.monotonic() < deadline:
            if not self._process.is_alive():
                log.error("the server process exited (code %s)", self._process.exitcode)
                return False
            with contextlib.suppress(ClientError, OSError, asyncio.TimeoutError):
                async with session.get(url):
                    return True
            await asyncio.sleep(0.05)
        log.error("the server did not answer within %.0fs", RESTART_WAIT)
        return False

    async def _watcher_stopped(self, exc: BaseException) -> None:
        message = (
            f"portal's file watcher stopped ({type(exc).__name__}: {exc}): saved files no "
            "longer reload. Restart `make run`."
        )
        log.critical("\n%s\n%s\n%s", "!" * 72, message, "!" * 72, exc_info=exc)
        with contextlib.suppress(Exception):
            await _broadcast(self._app, {"command": "alert", "message": message})


async def _stop(process: Process) -> None:
    """Stop a server process as adev does (SIGINT, then SIGKILL), without blocking the loop."""
    if not process.is_alive() or process.pid is None:
        return
    os.kill(process.pid, signal.SIGINT)
    await asyncio.to_thread(process.join, 5)
    if process.exitcode is None:
        log.warning("the old server process did not stop; killing it")
        process.kill()
        await asyncio.to_thread(process.join, 1)


async def _broadcast(app: web.Application, message: dict[str, Any]) -> int:
    """Send a livereload *message* to every open page; how many it reached."""
    reached = 0
    for ws, _url in list(app[adev_serve.WS]):
        with contextlib.suppress(RuntimeError, ConnectionError):
            await ws.send_json({"liveCSS": True, "liveImg": True, **message})
            reached += 1
    return reached


# The server process


@dataclass(frozen=True, slots=True)
class StartFailure:
    """Why the app could not start, short for the terminal and long for the page."""

    summary: str
    details: str

    @classmethod
    def of(cls, exc: BaseException) -> StartFailure:
        """The developer's view of *exc*: where in their code, what, not the import machinery."""
        if isinstance(exc, SyntaxError):
            lines = traceback.format_exception_only(type(exc), exc)
            summary = "".join(lines).rstrip()
            if exc.filename:
                summary = summary.replace(exc.filename, _shown(exc.filename))
        else:
            frames = [
                frame
                for frame in traceback.extract_tb(exc.__traceback__)
                if frame.filename.startswith(str(_ROOT)) and "/.venv/" not in frame.filename
            ]
            where = ""
            if frames:
                last = frames[-1]
                where = f'  File "{_shown(last.filename)}", line {last.lineno}, in {last.name}\n'
                if last.line:
                    where += f"    {last.line}\n"
            summary = f"{where}{type(exc).__name__}: {exc}"
        details = "".join(traceback.format_exception(exc))
        return cls(summary, details)

    def block(self) -> str:
        """The terminal's short block."""
        rule = "-" * 72
        return (
            f"{rule}\nportal could not start:\n{self.summary}\n"
            f"Fix it and save: the server restarts and the page reloads by itself.\n{rule}"
        )

    def page(self) -> str:
        """The browser's page (livereload is added to it like to any other)."""
        return (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            "<title>portal could not start</title>"
            "<style>body{font:16px system-ui,sans-serif;margin:2rem;max-width:60rem}"
            "pre{background:#fdecea;padding:1rem;overflow:auto;white-space:pre-wrap}"
            "</style></head><body><h1>portal could not start</h1>"
            f"<pre>{html.escape(self.summary)}</pre>"
            "<p>Fix it and save: this page reloads by itself once the server is back.</p>"
            "<details><summary>Full traceback</summary>"
            f"<pre>{html.escape(self.details)}</pre></details></body></html>"
        )


def serve(
    config: adev_config.Config, tty_path: str | None, host: str, go: Event | None = None
) -> None:
    """The server process: portal's app, or the page saying why it could not start.

    The app is imported and built at once; with *go*, it then waits for the
    previous server process to let go of the port, so a restart costs the
    longer of the two, not both.
    """
    with contextlib.suppress(KeyboardInterrupt), adev_serve.set_tty(tty_path):
        adev_serve.setup_logging(config.verbose)
        _dev_log_format()
        with asyncio.Runner() as loop:
            failure: StartFailure | None = None
            try:
                app = loop.run(config.load_app(config.import_app_factory()))
            except Exception as exc:
                failure = StartFailure.of(exc)
            if go is not None:
                go.wait(timeout=10)
            if failure is None:
                try:
                    runner = loop.run(_start_app(app, config, host))
                except Exception as exc:
                    failure = StartFailure.of(exc)
            if failure is not None:
                print(failure.block(), file=sys.stderr, flush=True)
                runner = loop.run(_start_failure_page(config, host, failure))
            # adev stops this process with SIGINT: stop the loop between two
            # callbacks rather than raise KeyboardInterrupt inside a request.
            loop.get_loop().add_signal_handler(signal.SIGINT, loop.get_loop().stop)
            try:
                loop.get_loop().run_forever()
            finally:
                with contextlib.suppress(asyncio.TimeoutError, KeyboardInterrupt):
                    loop.run(runner.cleanup())


async def _start_app(app: web.Application, config: adev_config.Config, host: str) -> web.AppRunner:
    adev_serve.modify_main_app(app, config)
    # No aiohttp access log: portal.access writes the one line per request.
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    try:
        await runner.setup()
        await _listen(runner, host, config.main_port)
    except BaseException:
        with contextlib.suppress(Exception):
            await runner.cleanup()
        raise
    return runner


async def _start_failure_page(
    config: adev_config.Config, host: str, failure: StartFailure
) -> web.AppRunner:
    body = failure.page()

    async def explain(request: web.Request) -> web.Response:
        return web.Response(
            status=500, text=body, content_type="text/html", headers={"Cache-Control": "no-store"}
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", explain)
    adev_serve.modify_main_app(app, config)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    await _listen(runner, host, config.main_port)
    return runner


async def _listen(runner: web.AppRunner, host: str, port: int) -> None:
    """Bind *host*:*port*, waiting briefly for the previous server process to let go of it."""
    deadline = time.monotonic() + 5
    while True:
        try:
            await web.TCPSite(runner, host=host, port=port).start()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


class _DevFormatter(logging.Formatter):
    """``[12:00:01] ● GET /polls/ 200 3.1ms user=-`` for requests, level and logger for the rest."""

    _request = logging.Formatter("[%(asctime)s] ● %(message)s", "%H:%M:%S")
    _other = logging.Formatter("[%(asctime)s] %(levelname)s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        chosen = self._request if record.name == "portal.access" else self._other
        return chosen.format(record)


def _dev_log_format() -> None:
    """portal's lines in the dev server's short style (set before the app's own set-up runs)."""
    handler = logging.StreamHandler()
    handler.setFormatter(_DevFormatter())
    logger = logging.getLogger("portal")
    logger.addHandler(handler)
    logger.propagate = False
