"""The benchmark's database: its own embedded PostgreSQL, migrated and seeded.

A private server under ``.data/bench`` (so the development database is never
touched) holding one database with a fixed layout that the wrk scripts rely
on: questions ``1..QUESTIONS``, question *q* with the choices
``(q-1)*CHOICES_EACH+1 .. q*CHOICES_EACH``, and todos ``1..TODOS``.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import psycopg2

from bench.config import ROOT
from portal.platform.db import embedded

__all__ = [
    "BENCH_USER",
    "CHOICES_EACH",
    "DATABASE",
    "NEWEST_PUB_DATE",
    "QUESTIONS",
    "SECRET_KEY",
    "TODOS",
    "ApiToken",
    "portal_cli",
    "portal_env",
    "postgres_version",
    "prepare_database",
    "revoke_token",
    "seed_if_needed",
    "start_database",
    "stop_database",
]

DATABASE = "portal_bench"
#: 100,000 rows each: enough that a filter without its index would show in the
#: filtered-list scenarios (a sequential scan of the table per request).
QUESTIONS = 100_000
CHOICES_EACH = 4
TODOS = 100_000
#: The newest question's pub_date; each older one a minute before the last. Fixed
#: (not now()), so the filtered scenarios' date range means the same on every run.
NEWEST_PUB_DATE = "2026-01-01T00:00:00Z"
BENCH_USER = "bench"
#: Only ever signs the benchmark's own throwaway sessions: new for each run, as a
#: key written in a public file is refused with debug off.
SECRET_KEY = secrets.token_urlsafe(48)

_SEED = (
    "TRUNCATE question, choice, todo RESTART IDENTITY CASCADE",
    # Published a minute apart, all in the past: the polls index shows the newest ten.
    f"""INSERT INTO question (question_text, pub_date)
        SELECT 'Benchmark question number ' || n || '?',
               TIMESTAMPTZ '{NEWEST_PUB_DATE}' - (n - 1) * interval '1 minute'
        FROM generate_series(1, {QUESTIONS}) AS n ORDER BY n""",
    f"""INSERT INTO choice (question_id, choice_text, votes)
        SELECT q, 'Choice ' || k || ' of question ' || q, 0
        FROM generate_series(1, {QUESTIONS}) AS q, generate_series(1, {CHOICES_EACH}) AS k
        ORDER BY q, k""",
    f"""INSERT INTO todo (name, finished)
        SELECT 'Benchmark todo number ' || n, n % 3 = 0
        FROM generate_series(1, {TODOS}) AS n ORDER BY n""",
)

# True when the tables hold exactly the layout above (vote counts may differ).
_LAYOUT_OK = f"""
SELECT (SELECT count(*) = {QUESTIONS} AND min(id) = 1 AND max(id) = {QUESTIONS}
          AND max(pub_date) = TIMESTAMPTZ '{NEWEST_PUB_DATE}' FROM question)
   AND (SELECT count(*) = {QUESTIONS * CHOICES_EACH}
          AND bool_and(question_id = (id - 1) / {CHOICES_EACH} + 1) FROM choice)
   AND (SELECT count(*) = {TODOS} AND min(id) = 1 AND max(id) = {TODOS} FROM todo)
"""


def start_database(data_dir: Path) -> str:
    """Start (or attach to) the benchmark's PostgreSQL in *data_dir*; its libpq URL."""
    return embedded.start(data_dir, DATABASE)


def stop_database(data_dir: Path) -> None:
    """Stop the benchmark's PostgreSQL."""
    embedded.stop(data_dir)


def portal_env(database_url: str, data_dir: Path) -> dict[str, str]:
    """The environment of a production portal process on *database_url*.

    Any ``PORTAL_*`` variable of the caller is dropped, so a developer's own
    configuration (a YAML file, a log level) cannot change what is measured.
    The API rate limit is off (wrk is one client sending far past any real
    limit); the ``limited`` scenario measures what the limiter costs.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(
        PORTAL_DATABASE_URL=database_url,
        PORTAL_SECRET_KEY=SECRET_KEY,
        PORTAL_DEBUG="0",
        PORTAL_DATA_DIR=str(data_dir),
        PORTAL_API_RATE_LIMIT="off",
    )
    return env


def portal_cli(env: Mapping[str, str], *args: str, stdin: str = "") -> str:
    """Run ``python -m portal *args`` in *env*; its output, or RuntimeError with its stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "portal", *args],
        cwd=ROOT,
        env=dict(env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"python -m portal {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def seed_if_needed(database_url: str) -> bool:
    """Load the benchmark's volume unless it is there already; True if it was loaded."""
    conn = psycopg2.connect(database_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(_LAYOUT_OK)
            row = cur.fetchone()
            if row is not None and row[0]:
                return False
            for statement in _SEED:
                cur.execute(statement)
        conn.autocommit = True
        with conn.cursor() as cur:
            # Fresh statistics, so the first measured run gets the same plans as the last.
            cur.execute("VACUUM ANALYZE question, choice, todo")
        return True
    finally:
        conn.close()


@dataclass(frozen=True, slots=True)
class ApiToken:
    """An API token of the benchmark's staff user."""

    id: int
    secret: str


_TOKEN_LINE = re.compile(r"^Token ([0-9]+) ")


def prepare_database(database_url: str, data_dir: Path) -> ApiToken:
    """Migrate, seed when needed, ensure the ``bench`` user; a new token for it.

    Everything goes through portal's own commands, as an operator would.
    """
    env = portal_env(database_url, data_dir)
    portal_cli(env, "migrate")
    seed_if_needed(database_url)
    if not _user_exists(database_url, BENCH_USER):
        password = secrets.token_urlsafe(24)
        portal_cli(
            env, "createsuperuser", "--username", BENCH_USER, "--password-stdin", stdin=password
        )
    lines = portal_cli(env, "token", "create", BENCH_USER, "--name", "bench").strip().splitlines()
    header = _TOKEN_LINE.match(lines[0]) if lines else None
    if header is None:
        raise RuntimeError(f"unexpected output of `token create`: {lines!r}")
    return ApiToken(id=int(header.group(1)), secret=lines[-1].strip())


def revoke_token(database_url: str, data_dir: Path, token: ApiToken) -> None:
    """Revoke the run's token, so tokens do not pile up across runs."""
    portal_cli(portal_env(database_url, data_dir), "token", "revoke", str(token.id))


def _user_exists(database_url: str, username: str) -> bool:
    conn = psycopg2.connect(database_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT 1 FROM users WHERE username = %s", (username,))
            return cur.fetchone() is not None
    finally:
        conn.close()


def postgres_version(database_url: str) -> str:
    """The server's ``SHOW server_version``."""
    conn = psycopg2.connect(database_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SHOW server_version")
            row = cur.fetchone()
            return str(row[0]) if row else "unknown"
    finally:
        conn.close()
