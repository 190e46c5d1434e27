"""What one fault run does: rounds, durations and limits, from the command line.

The defaults are the hardening issue's protocol; the fast test in
``tests/faults/`` builds a shorter :class:`FaultsConfig` and runs the same code.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, fields

__all__ = ["SCENARIOS", "FaultsConfig", "parse_args"]

#: Every scenario, in the order a run takes them.
SCENARIOS = ("votes", "restart", "stop", "kill")


@dataclass(frozen=True, slots=True)
class FaultsConfig:
    """The knobs of one run; each has a ``--kebab-case`` option of ``python -m faults``."""

    #: Rounds of concurrent votes on one choice, and the votes in each round.
    vote_rounds: int = 10
    votes: int = 200
    #: Seconds of mixed load around a PostgreSQL restart, and around a stop.
    load_seconds: float = 30.0
    #: Seconds PostgreSQL stays stopped in the ``stop`` scenario.
    outage_seconds: float = 3.0
    #: Seconds of mixed load around the worker kill.
    kill_seconds: float = 15.0
    #: Clients sending mixed load at once, each one request after the other.
    clients: int = 16
    #: Seconds after which the client gives a request up (counted as a failure).
    request_timeout: float = 15.0
    #: Full service must be back this many seconds after PostgreSQL is.
    recovery_limit: float = 2.0
    #: gunicorn worker processes.
    workers: int = 2
    #: The scenarios to run (a subset of :data:`SCENARIOS`).
    scenarios: tuple[str, ...] = SCENARIOS
    #: Keep the data folder (PostgreSQL's and gunicorn's logs) afterwards.
    keep: bool = False

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, int | float) and not isinstance(value, bool) and value <= 0:
                raise ValueError(f"{field.name} must be positive, not {value}")
        unknown = set(self.scenarios) - set(SCENARIOS)
        if unknown or not self.scenarios:
            raise ValueError(f"scenarios must be some of {', '.join(SCENARIOS)}")
        if self.workers < 2 and "kill" in self.scenarios:
            raise ValueError("the kill scenario needs at least 2 workers")


def parse_args(argv: Sequence[str] | None = None) -> FaultsConfig:
    """The configuration ``python -m faults [options]`` asks for."""
    defaults = FaultsConfig()
    parser = argparse.ArgumentParser(
        prog="python -m faults",
        description="The real site (gunicorn workers, embedded PostgreSQL) under load while "
        "its database restarts and stops and a worker is killed.",
    )
    for field in fields(FaultsConfig):
        if field.name in ("scenarios", "keep"):
            continue
        default = getattr(defaults, field.name)
        parser.add_argument(
            "--" + field.name.replace("_", "-"),
            type=type(default),
            default=default,
            metavar="N",
            help=f"default: {default}",
        )
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma-separated, from {','.join(SCENARIOS)} (default: all)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the data folder and the logs afterwards"
    )
    args = vars(parser.parse_args(argv))
    args["scenarios"] = tuple(s.strip() for s in args["scenarios"].split(",") if s.strip())
    try:
        return FaultsConfig(**args)
    except ValueError as exc:
        parser.error(str(exc))
