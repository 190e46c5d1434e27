"""Real server processes for tests: ``python -m portal run`` or gunicorn, on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from portal.testing import TEST_SECRET

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Server:
    """A running site: its base URL and the environment its CLI commands need."""

    url: str
    env: dict[str, str]
    #: The server's process, for tests that signal it (it is stopped afterwards
    #: unless it has exited already).
    process: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str, stdin: str = "") -> str:
        """Run ``python -m portal *args`` against this site's database; its output."""
        result = subprocess.run(
            [sys.executable, "-m", "portal", *args],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout


def server_env(database_url: str, data_dir: Path) -> dict[str, str]:
    """Production-mode settings for a server process on *database_url*.

    The API rate limit is off, as in the ``settings`` fixture: every test
    client is one address (a test about the limit sets its own).
    """
    return {
        **os.environ,
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_SECRET_KEY": TEST_SECRET,
        "PORTAL_DEBUG": "0",
        "PORTAL_DATA_DIR": str(data_dir),
        "PORTAL_API_RATE_LIMIT": "off",
    }


def portal_command(port: int) -> list[str]:
    """``python -m portal run`` on *port*."""
    return [sys.executable, "-m", "portal", "run", "--port", str(port)]


def gunicorn_command(port: int, workers: int) -> list[str]:
    """The README's gunicorn command line, on *port* with *workers* processes."""
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    return [
        gunicorn, "portal.main:create_app()", "-k", "aiohttp.GunicornWebWorker",
        "-w", str(workers), "-b", f"127.0.0.1:{port}", "--graceful-timeout", "5",
    ]  # fmt: skip


@contextmanager
def running(
    command: Sequence[str],
    port: int,
    env: dict[str, str],
    log: Path,
    *,
    cwd: Path = ROOT,
    within: float = 30.0,
) -> Iterator[Server]:
    """Start *command* in *cwd*, wait (up to *within* seconds) until ``/readyz``
    answers 200, stop it afterwards."""
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_ready(base, process, log, within)
            yield Server(url=base, env=env, process=process)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_ready(
    base: str, process: subprocess.Popen[bytes], log: Path, within: float
) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not become ready:\n{log.read_text()}")
