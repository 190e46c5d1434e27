"""The site under test: gunicorn workers on the suite's own embedded PostgreSQL.

Everything is set up as an operator would: the server's data in a fresh
temporary folder, then ``python -m portal migrate``, ``seed``,
``createsuperuser`` and ``token create``, then the README's gunicorn command.
The same object also breaks things: it restarts, stops and starts PostgreSQL
and kills workers.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg2

# The benchmark's helpers for driving portal's CLI in a clean environment.
from bench.data import portal_cli, portal_env
from portal.platform.db import embedded

__all__ = ["ROOT", "Site", "running_site"]

#: The repository root: the servers and CLI commands run from here.
ROOT = Path(__file__).resolve().parent.parent

DATABASE = "portal_faults"
STAFF_USER = "faults"
#: gunicorn's --graceful-timeout; the workers' own shutdown takes 95% of it.
GRACEFUL_TIMEOUT = 5
_BOOT_SECONDS = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Site:
    """The running site and the handles to break it."""

    url: str
    port: int
    token: str
    database_url: str
    data_dir: Path
    log: Path
    process: subprocess.Popen[bytes]

    # PostgreSQL

    def restart_postgres(self) -> None:
        """``pg_ctl restart`` (fast: sessions are cut), returning once it accepts connections."""
        self._pg_ctl("-m", "fast", "-l", str(self._pgdata / "log"), "restart")

    def stop_postgres(self) -> None:
        """``pg_ctl stop`` (fast: sessions are cut), returning once it is down."""
        self._pg_ctl("-m", "fast", "stop")

    def start_postgres(self) -> None:
        """``pg_ctl start`` with pgserver's options, returning once it accepts connections.

        The socket goes where it was, so the workers' URL finds the server again.
        """
        socket_dir = self.postgres_socket.parent
        # As pgserver starts it: no TCP port at all, only the Unix socket.
        self._pg_ctl(
            "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(self._pgdata / "log"), "start"
        )

    @property
    def postgres_socket(self) -> Path:
        """PostgreSQL's Unix socket: there from start-up until the end of a shutdown."""
        from yarl import URL

        # pgserver's URLs name the socket's folder in the host parameter.
        return Path(URL(self.database_url).query["host"]) / ".s.PGSQL.5432"

    @property
    def _pgdata(self) -> Path:
        return self.data_dir.resolve() / "postgres"

    def _pg_ctl(self, *args: str) -> None:
        # pg_ctl is built at import time from a factory, so mypy cannot see it.
        from pgserver._commands import pg_ctl  # type: ignore[attr-defined]

        # As root, pgserver runs the server as its own user; pg_ctl must be that user.
        user = "pgserver" if os.geteuid() == 0 else None
        pg_ctl(["-w", *args], pgdata=self._pgdata, user=user, timeout=60)

    def sql(self, statement: str, *params: object) -> list[tuple[object, ...]]:
        """Run one statement straight on the database (bypassing the site); its rows."""
        conn = psycopg2.connect(self.database_url)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(statement, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def new_choice(self, label: str) -> tuple[int, int]:
        """A new question with one choice and no votes: ``(question_id, choice_id)``."""
        ((question_id,),) = self.sql(
            "INSERT INTO question (question_text, pub_date) VALUES (%s, now()) RETURNING id",
            f"Fault run: {label}?",
        )
        ((choice_id,),) = self.sql(
            "INSERT INTO choice (question_id, choice_text) VALUES (%s, 'Yes') RETURNING id",
            question_id,
        )
        return _int(question_id), _int(choice_id)

    def votes(self, choice_id: int) -> int:
        """The choice's count, as PostgreSQL has it."""
        ((votes,),) = self.sql("SELECT votes FROM choice WHERE id = %s", choice_id)
        return _int(votes)

    # gunicorn workers

    def workers(self) -> list[int]:
        """The pids of gunicorn's live workers."""
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return []
        return [int(child) for child in children]

    def wait_for_workers(self, count: int, limit: float = _BOOT_SECONDS) -> list[int]:
        """Wait until *count* workers run; their pids."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{_tail(self.log)}")
            workers = self.workers()
            if len(workers) >= count:
                return workers
            time.sleep(0.05)
        raise RuntimeError(f"gunicorn did not run {count} workers within {limit:.0f} s")

    def wait_until_ready(self, workers: int, limit: float = _BOOT_SECONDS) -> None:
        """Wait until *workers* workers run and ``/readyz`` answers 200."""
        self.wait_for_workers(workers, limit)
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{_tail(self.log)}")
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=2) as response:  # noqa: S310 (our own URL)
                    if response.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the site was not ready within {limit:.0f} s:\n{_tail(self.log)}")

    def connections(self, pid: int) -> int:
        """The established client connections process *pid* holds on the site's port."""
        return established_connections(pid, self.port)


def _int(value: object) -> int:
    if not isinstance(value, int):
        raise TypeError(f"expected an integer from PostgreSQL, got {value!r}")
    return value


def established_connections(pid: int, port: int) -> int:
    """TCP connections in state ESTABLISHED on local *port* whose socket *pid* has open.

    Read from ``/proc``: the socket inodes among the process's file
    descriptors, matched against the kernel's TCP tables.
    """
    inodes = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    try:
        for fd in fd_dir.iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        return 0
    local = f":{port:04X}"
    count = 0
    for table in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            # local_address, state "01" (ESTABLISHED), and the socket's inode.
            if parts[1].endswith(local) and parts[3] == "01" and parts[9] in inodes:
                count += 1
    return count


def _tail(log: Path, size: int = 8192) -> str:
    try:
        return log.read_bytes()[-size:].decode(errors="replace")
    except OSError:
        return ""


def _prepare(database_url: str, data_dir: Path) -> str:
    """Migrate, seed, a staff user and its API token, through portal's own commands."""
    env = portal_env(database_url, data_dir)
    portal_cli(env, "migrate")
    portal_cli(env, "seed")
    password = secrets.token_urlsafe(24)
    portal_cli(env, "createsuperuser", "--username", STAFF_USER, "--password-stdin", stdin=password)
    return (
        portal_cli(env, "token", "create", STAFF_USER, "--name", "faults").strip().splitlines()[-1]
    )


def _gunicorn_command(port: int, workers: int) -> list[str]:
    """The README's gunicorn command line."""
    return [
        str(Path(sys.executable).parent / "gunicorn"), "portal.main:create_app()",
        "-k", "aiohttp.GunicornWebWorker", "-w", str(workers),
        "-b", f"127.0.0.1:{port}", "--graceful-timeout", str(GRACEFUL_TIMEOUT),
    ]  # fmt: skip


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=GRACEFUL_TIMEOUT + 10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running_site(workers: int, keep: bool = False) -> Iterator[Site]:
    """A fresh embedded PostgreSQL, prepared, and gunicorn with *workers* workers on it.

    Everything is stopped and removed afterwards (the data folder stays with *keep*).
    """
    # Not under a test runner's temp folder (see tests/conftest.py), and short:
    # the server's Unix socket lives inside it.
    data_dir = Path(tempfile.mkdtemp(prefix="portal-faults-"))
    try:
        database_url = embedded.start(data_dir, DATABASE)
        token = _prepare(database_url, data_dir)
        port = _free_port()
        log = data_dir / "gunicorn.log"
        env = portal_env(database_url, data_dir)
        with log.open("wb") as out:
            process = subprocess.Popen(
                _gunicorn_command(port, workers),
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            try:
                site = Site(
                    url=f"http://127.0.0.1:{port}",
                    port=port,
                    token=token,
                    database_url=database_url,
                    data_dir=data_dir,
                    log=log,
                    process=process,
                )
                site.wait_until_ready(workers)
                yield site
            finally:
                _stop(process)
    finally:
        embedded.stop(data_dir)
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)
