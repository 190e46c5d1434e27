"""Server processes pinned to one core: start, wait until ready, measure, stop.

Every server runs as one process under ``taskset -c CPU`` (taskset execs the
command, so the pid we hold is the server's own), with its output in a log
file whose tail is kept for the report when it fails.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.config import ROOT

__all__ = [
    "RunningServer",
    "ServerSpec",
    "fastapi_server",
    "free_port",
    "pinned",
    "portal_server",
    "read_rss_kb",
    "reference_aiohttp_server",
    "running",
    "stop_process",
    "tail",
    "uses_uvloop",
    "worker_pid",
]

_LOG_TAIL_BYTES = 16_384
_KEPT_LINES = 2_000
_ACCESS_LINE = " portal.access: "


@dataclass(frozen=True, slots=True)
class ServerSpec:
    """How to start one server: its command (given a port) and environment."""

    key: str
    label: str
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    #: Answers 200 once the server can take load (its database pool is open).
    ready_path: str = "/"

    def command(self, port: int) -> list[str]:
        """The command line, ``{port}`` filled in."""
        return [part.replace("{port}", str(port)) for part in self.argv]


@dataclass(frozen=True, slots=True)
class RunningServer:
    """A started server: its process, base URL and exact command line."""

    spec: ServerSpec
    pid: int
    url: str
    command: tuple[str, ...]


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def pinned(cpu: int, command: Sequence[str]) -> list[str]:
    """*command* run on core *cpu* only."""
    return ["taskset", "-c", str(cpu), *command]


def portal_server(env: Mapping[str, str]) -> ServerSpec:
    """``python -m portal run``: production mode, one process."""
    return ServerSpec(
        key="portal",
        label="portal",
        argv=(sys.executable, "-m", "portal", "run", "--host", "127.0.0.1", "--port", "{port}"),
        env=env,
        ready_path="/readyz",
    )


#: A limit wrk never reaches: what is measured is counting every request, not refusing.
UNREACHED_RATE_LIMIT = "1000000000/hour"


def portal_limited_server(env: Mapping[str, str]) -> ServerSpec:
    """portal with the API rate limit on (:data:`UNREACHED_RATE_LIMIT`): what counting costs.

    wrk is one client, so every request updates one counter row: the worst
    case, a single client at full speed.
    """
    return ServerSpec(
        key="portal-limited",
        label="portal, rate limit on",
        argv=portal_server(env).argv,
        env={**env, "PORTAL_API_RATE_LIMIT": UNREACHED_RATE_LIMIT},
        ready_path="/readyz",
    )


def reference_aiohttp_server(database_url: str, *, uvloop: bool = False) -> ServerSpec:
    """The bare aiohttp reference of :mod:`bench.ref_aiohttp` (on asyncio's loop by default)."""
    argv = (sys.executable, "-m", "bench.ref_aiohttp", "--port", "{port}")
    return ServerSpec(
        key="aiohttp",
        label="bare aiohttp",
        argv=(*argv, "--uvloop") if uvloop else argv,
        env={"BENCH_DATABASE_URL": database_url},
        ready_path="/api/todos/1",
    )


def fastapi_server(database_url: str) -> ServerSpec:
    """FastAPI under uvicorn with uvloop and httptools, one worker, no access log."""
    uvicorn = str(Path(sys.executable).parent / "uvicorn")
    argv = (
        uvicorn, "bench.ref_fastapi:create_app", "--factory",
        "--host", "127.0.0.1", "--port", "{port}",
        "--loop", "uvloop", "--http", "httptools", "--workers", "1",
        "--no-access-log", "--log-level", "warning",
    )  # fmt: skip
    return ServerSpec(
        key="fastapi",
        label="FastAPI + asyncpg",
        argv=argv,
        env={"BENCH_DATABASE_URL": database_url},
        ready_path="/api/todos/1",
    )


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Ask *process* to stop (SIGTERM), and kill it if it has not within 15 s."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running(spec: ServerSpec, *, cpu: int, log: Path, limit: float = 60) -> Iterator[RunningServer]:
    """Start *spec* pinned to *cpu*, wait until ready, stop it afterwards."""
    port = free_port()
    command = pinned(cpu, spec.command(port))
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **spec.env}
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_ready(url + spec.ready_path, process, log, limit)
            yield RunningServer(spec=spec, pid=process.pid, url=url, command=tuple(command))
        finally:
            stop_process(process)
    _trim(log)


def _wait_until_ready(url: str, process: subprocess.Popen[bytes], log: Path, limit: float) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own URL)
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            time.sleep(0.05)
    raise RuntimeError(f"the server did not answer {url} within {limit:.0f} s:\n{tail(log)}")


def tail(log: Path) -> str:
    """The end of a server's log."""
    try:
        data = log.read_bytes()
    except OSError:
        return ""
    return data[-_LOG_TAIL_BYTES:].decode(errors="replace")


def _trim(log: Path) -> None:
    # portal logs one line per request: keep every other line (warnings,
    # tracebacks) and the end, not hundreds of megabytes of access lines.
    try:
        if log.stat().st_size <= _LOG_TAIL_BYTES:
            return
        kept: list[str] = []
        with log.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if _ACCESS_LINE not in line and len(kept) < _KEPT_LINES:
                    kept.append(line)
        end = tail(log)
        log.write_text("".join(kept) + "[...]\n" + end, encoding="utf-8")
    except OSError:
        pass


def worker_pid(pid: int) -> int:
    """The process that serves: *pid* itself, or its only child if it forked a worker."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return pid
    return int(children[0]) if len(children) == 1 else pid


def uses_uvloop(pid: int) -> bool:
    """Whether process *pid* has uvloop's extension loaded (so most likely runs on it)."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False
    return "/uvloop/loop." in maps


def read_rss_kb(pid: int) -> int:
    """``VmRSS`` of process *pid*, in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")
