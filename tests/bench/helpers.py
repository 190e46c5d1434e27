"""Results to report on, built without running anything."""

from __future__ import annotations

from bench.results import BenchResults, Measurement
from bench.wrk import WrkResult


def run(rps: float, p50: float = 5.0, p99: float = 10.0, errors: int = 0) -> WrkResult:
    """One wrk run with these numbers."""
    return WrkResult(
        requests=int(rps * 10),
        seconds=10.0,
        requests_per_second=rps,
        p50_ms=p50,
        p99_ms=p99,
        socket_errors={"connect": 0, "read": 0, "write": 0, "timeout": 0},
        non_2xx_3xx=errors,
    )


def measured(scenario: str, server: str, *runs: WrkResult) -> Measurement:
    """A measurement of *scenario* on *server*, labelled by the server key."""
    return Measurement(scenario=scenario, server=server, label=server, runs=runs)


def results_with(*measurements: Measurement) -> BenchResults:
    """Results holding *measurements*, portal's RSS at 64 MiB."""
    return BenchResults(measurements=list(measurements), rss_kb={"portal": 64 * 1024})
