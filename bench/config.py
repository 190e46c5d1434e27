"""What one benchmark run does, read from ``BENCH_*`` environment variables.

The defaults are the issue's protocol (10 s runs, median of 3, 50
connections); ``BENCH_DURATION=2 BENCH_RUNS=1`` is a quick development run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ROOT", "BenchConfig", "ConfigError"]

#: The repository root: servers run from here, documents are written under it.
ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """A ``BENCH_*`` variable has a value the benchmark cannot use."""


@dataclass(frozen=True, slots=True)
class BenchConfig:
    """The knobs of one run; every field has a ``BENCH_<NAME>`` variable."""

    #: Seconds of each measured wrk run.
    duration: int = 10
    #: Measured runs per scenario and server; the median is reported.
    runs: int = 3
    #: Seconds of the unmeasured wrk run before them.
    warmup: int = 3
    connections: int = 50
    #: Seconds before wrk counts a request as timed out (an error).
    timeout: int = 2
    #: WebSockets the fan-out scenario opens, and the votes it times.
    sockets: int = 500
    votes: int = 5
    #: How many times portal's start-up to first response is timed.
    startups: int = 3
    #: Only these scenarios (comma-separated keys, e.g. ``todo,index``); empty: all.
    scenarios: tuple[str, ...] = ()
    #: The core the servers are pinned to, and the one for the load generators.
    server_cpu: int = 0
    client_cpu: int = 1
    data_dir: Path = ROOT / ".data" / "bench"
    docs_dir: Path = ROOT / "docs"
    #: Leave the benchmark's PostgreSQL running afterwards (faster next run).
    keep_db: bool = False
    #: Run the bare aiohttp reference on uvloop, as portal's server does, so the
    #: ratio measures the platform and not the event loop (BENCH_REF_UVLOOP=0
    #: for asyncio's own loop).
    ref_uvloop: bool = True

    @property
    def quick(self) -> bool:
        """Shorter than the issue's protocol: numbers for development, not for comparison."""
        return self.duration < 10 or self.runs < 3

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> BenchConfig:
        """The defaults, overridden by whichever ``BENCH_*`` variables are set."""
        env = os.environ if environ is None else environ
        default = cls()
        scenarios = env.get("BENCH_SCENARIOS", "")
        return cls(
            duration=_positive(env, "BENCH_DURATION", default.duration),
            runs=_positive(env, "BENCH_RUNS", default.runs),
            warmup=_positive(env, "BENCH_WARMUP", default.warmup, zero_ok=True),
            connections=_positive(env, "BENCH_CONNECTIONS", default.connections),
            timeout=_positive(env, "BENCH_TIMEOUT", default.timeout),
            sockets=_positive(env, "BENCH_SOCKETS", default.sockets),
            votes=_positive(env, "BENCH_VOTES", default.votes),
            startups=_positive(env, "BENCH_STARTUPS", default.startups),
            scenarios=tuple(s.strip() for s in scenarios.split(",") if s.strip()),
            data_dir=Path(env.get("BENCH_DATA_DIR", str(default.data_dir))),
            docs_dir=Path(env.get("BENCH_DOCS_DIR", str(default.docs_dir))),
            keep_db=_flag(env, "BENCH_KEEP_DB"),
            ref_uvloop=_flag(env, "BENCH_REF_UVLOOP", default=True),
        )


def _flag(env: Mapping[str, str], name: str, *, default: bool = False) -> bool:
    text = env.get(name, "").strip().lower()
    return default if not text else text in {"1", "true", "yes", "on"}


def _positive(env: Mapping[str, str], name: str, default: int, *, zero_ok: bool = False) -> int:
    text = env.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {text!r}") from None
    if value < (0 if zero_ok else 1):
        raise ConfigError(f"{name} must be at least {0 if zero_ok else 1}, not {value}")
    return value
