"""What a run measured, as plain data: the report and the targets read only this."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.wrk import WrkResult

__all__ = ["BenchResults", "FanoutResult", "Measurement", "StartupResult"]


@dataclass(frozen=True, slots=True)
class Measurement:
    """One scenario on one server: its measured wrk runs (warm-up excluded)."""

    scenario: str
    server: str
    label: str
    runs: tuple[WrkResult, ...]
    command: tuple[str, ...] = ()

    @property
    def requests_per_second(self) -> float:
        """The median over the runs."""
        return statistics.median(run.requests_per_second for run in self.runs)

    @property
    def p50_ms(self) -> float:
        """The median over the runs of each run's 50th percentile."""
        return statistics.median(run.p50_ms for run in self.runs)

    @property
    def p99_ms(self) -> float:
        """The median over the runs of each run's 99th percentile."""
        return statistics.median(run.p99_ms for run in self.runs)

    @property
    def errors(self) -> int:
        """Every error of every measured run."""
        return sum(run.errors for run in self.runs)

    @property
    def error_kinds(self) -> dict[str, int]:
        """The errors by kind (``non-2xx/3xx``, ``timeout``, ...), leaving out the zeros."""
        kinds = {"non-2xx/3xx": sum(run.non_2xx_3xx for run in self.runs)}
        for run in self.runs:
            for kind, count in run.socket_errors.items():
                kinds[kind] = kinds.get(kind, 0) + count
        return {kind: count for kind, count in kinds.items() if count}


@dataclass(frozen=True, slots=True)
class FanoutResult:
    """The WebSocket fan-out: time from a vote until every open socket saw it."""

    sockets: int
    connected: int
    connect_seconds: float
    #: One per vote: milliseconds from sending the vote to the last socket receiving it.
    all_received_ms: tuple[float, ...]
    #: Deliveries that never came (a socket that missed a vote), over all votes.
    missed: int
    #: Sockets that could not be opened, and votes that were refused.
    failures: int

    @property
    def p50_ms(self) -> float | None:
        """The median over the votes; None when no vote was timed."""
        return statistics.median(self.all_received_ms) if self.all_received_ms else None

    @property
    def max_ms(self) -> float | None:
        """The slowest vote; None when no vote was timed."""
        return max(self.all_received_ms) if self.all_received_ms else None

    @property
    def errors(self) -> int:
        """Unopened sockets, refused votes and missed deliveries together."""
        return self.failures + self.missed


@dataclass(frozen=True, slots=True)
class StartupResult:
    """Seconds from spawning ``python -m portal run`` to its first 200 from ``/healthz``."""

    seconds: tuple[float, ...]
    command: tuple[str, ...] = ()

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


@dataclass(slots=True)
class BenchResults:
    """Everything one run produced."""

    measurements: list[Measurement] = field(default_factory=list)
    #: Worker RSS in kB after each server's wrk runs, by server key.
    rss_kb: dict[str, int] = field(default_factory=dict)
    #: portal's worker RSS in kB with the fan-out's sockets open.
    fanout_rss_kb: int | None = None
    #: The exact command line of each server, by server key.
    server_commands: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: Each server's name in the report, by server key.
    server_labels: dict[str, str] = field(default_factory=dict)
    #: Whether each server had uvloop loaded, by server key.
    server_uvloop: dict[str, bool] = field(default_factory=dict)
    fanout: FanoutResult | None = None
    fanout_command: tuple[str, ...] = ()
    startup: StartupResult | None = None
    #: Where a reference's response differs from portal's.
    parity: list[str] = field(default_factory=list)
    #: Anything else worth a line in the report (a failed step, say).
    notes: list[str] = field(default_factory=list)

    def find(self, scenario: str, server: str) -> Measurement | None:
        """The measurement of *scenario* on *server*, if it ran."""
        for measurement in self.measurements:
            if measurement.scenario == scenario and measurement.server == server:
                return measurement
        return None

    def ratio(self, scenario: str, reference: str) -> float | None:
        """portal's requests/s over *reference*'s on *scenario*; None if either is missing."""
        ours = self.find(scenario, "portal")
        theirs = self.find(scenario, reference)
        if ours is None or theirs is None or theirs.requests_per_second <= 0:
            return None
        return ours.requests_per_second / theirs.requests_per_second

    def portal_errors(self, scenarios: Sequence[str] | None = None) -> int:
        """portal's errors over its runs (and the fan-out's, when all scenarios count)."""
        total = sum(
            m.errors
            for m in self.measurements
            if m.server == "portal" and (scenarios is None or m.scenario in scenarios)
        )
        if scenarios is None and self.fanout is not None:
            total += self.fanout.errors
        return total
