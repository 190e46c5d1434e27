"""The facts a reader needs to compare one run with another."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from bench.config import ROOT

__all__ = ["PACKAGES", "load_average", "machine_facts"]

#: The packages whose versions decide the numbers.
PACKAGES = (
    "aiohttp",
    "aiohttp-jinja2",
    "Jinja2",
    "aiopg",
    "psycopg2-binary",
    "SQLAlchemy",
    "pydantic",
    "fastapi",
    "starlette",
    "uvicorn",
    "uvloop",
    "httptools",
    "asyncpg",
)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _command_output(command: list[str]) -> str:
    try:
        done = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (done.stdout or done.stderr).strip()


def _git_revision() -> str:
    revision = _command_output(["git", "rev-parse", "--short", "HEAD"])
    dirty = _command_output(["git", "status", "--porcelain", "--untracked-files=no"])
    return f"{revision} (with uncommitted changes)" if dirty else revision


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine skews the numbers."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def machine_facts(postgres_version: str, load_before: str) -> list[tuple[str, str]]:
    """``(name, value)`` pairs: when, where, and which versions."""
    wrk = _command_output(["wrk", "-v"]).split(" Copyright")[0].splitlines()
    facts = [
        ("date", dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("portal revision", _git_revision()),
        ("CPU", _cpu_model()),
        ("cores", str(os.cpu_count())),
        ("kernel", platform.release()),
        ("load average before the run", load_before),
        ("Python", platform.python_version()),
        ("PostgreSQL", f"{postgres_version} (embedded, pgserver; not pinned)"),
        ("wrk", wrk[0] if wrk else "unknown"),
    ]
    for package in PACKAGES:
        version = _version(package)
        if version is None and package == "psycopg2-binary":
            version = _version("psycopg2")
        facts.append((package, version or "not installed"))
    return facts
