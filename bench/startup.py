"""portal's start-up time: from spawning ``python -m portal run`` to its first 200.

The database is already running (``PORTAL_DATABASE_URL`` points at it), so
this is portal's own start: imports, building the app tree, opening the pool
and the event listener, binding the port.
"""

from __future__ import annotations

import http.client
import subprocess
import sys
import time
from collections.abc import Mapping

from bench.config import ROOT
from bench.results import StartupResult
from bench.servers import free_port, pinned, stop_process

__all__ = ["measure_startup", "startup_command"]

_POLL_SECONDS = 0.005


def startup_command(cpu: int, port: int) -> list[str]:
    """``python -m portal run`` on *port*, pinned to *cpu*."""
    return pinned(
        cpu, [sys.executable, "-m", "portal", "run", "--host", "127.0.0.1", "--port", str(port)]
    )


def _healthy(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def _once(cpu: int, env: Mapping[str, str], limit: float) -> tuple[float, list[str]]:
    port = free_port()
    command = startup_command(cpu, port)
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env=dict(env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while time.perf_counter() - started < limit:
            if process.poll() is not None:
                raise RuntimeError(f"portal exited with {process.returncode} while starting")
            if _healthy(port):
                return time.perf_counter() - started, command
            time.sleep(_POLL_SECONDS)
        raise RuntimeError(f"portal did not answer /healthz within {limit:.0f} s")
    finally:
        stop_process(process)


def measure_startup(
    env: Mapping[str, str], *, cpu: int, times: int, limit: float = 30
) -> StartupResult:
    """Start portal *times* times (after one unmeasured start that warms the caches)."""
    _, command = _once(cpu, env, limit)
    seconds = [_once(cpu, env, limit)[0] for _ in range(times)]
    return StartupResult(seconds=tuple(seconds), command=tuple(command))
