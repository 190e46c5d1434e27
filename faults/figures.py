"""The figures a scenario prints, and its verdict: what was measured, what failed."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from faults.load import Outcome

__all__ = ["ScenarioResult", "Window", "latencies", "percentile", "statuses"]


@dataclass
class ScenarioResult:
    """One scenario's figures (lines to print) and failed requirements (empty: passed)."""

    name: str
    seconds: float = 0.0
    figures: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def require(self, condition: bool, failure: str) -> None:
        """Record *failure* unless *condition* holds."""
        if not condition:
            self.failures.append(failure)


@dataclass(frozen=True, slots=True)
class Window:
    """When a fault lasted: from the moment it was caused until the service was back."""

    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of *values* (sorted or not); 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


def statuses(outcomes: Iterable[Outcome]) -> str:
    """``200: 812, 503: 14, timeout: 1``: how many of each status or error, most common first."""
    counts = Counter(outcome.label for outcome in outcomes)
    return ", ".join(f"{label}: {n}" for label, n in counts.most_common()) or "none"


def latencies(outcomes: Iterable[Outcome]) -> str:
    """``p50 3.1 ms, p99 40.2 ms, max 812.0 ms`` over *outcomes*."""
    seconds = [outcome.seconds for outcome in outcomes]
    if not seconds:
        return "no requests"
    return (
        f"p50 {percentile(seconds, 0.5) * 1000:.1f} ms, "
        f"p99 {percentile(seconds, 0.99) * 1000:.1f} ms, max {max(seconds) * 1000:.1f} ms"
    )
