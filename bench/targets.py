"""The issue's targets, checked against a run's results."""

from __future__ import annotations

from dataclasses import dataclass

from bench.results import BenchResults

__all__ = [
    "MAX_P99_MS",
    "MAX_RSS_MIB",
    "MAX_STARTUP_SECONDS",
    "RATIO_TARGETS",
    "TargetCheck",
    "check_targets",
]

#: portal's requests/s over a reference's, at least: ``(scenario, reference) -> ratio``.
RATIO_TARGETS: dict[tuple[str, str], float] = {
    ("todo", "fastapi"): 1.0,
    ("todo", "aiohttp"): 2.0,
    ("vote", "aiohttp"): 2.0,
    ("index", "aiohttp"): 0.9,
    ("health", "aiohttp"): 0.85,
}
_RATIO_NAMES = {
    ("todo", "fastapi"): "API one-row read ≥ 1.0 × FastAPI + asyncpg",
    ("todo", "aiohttp"): "API one-row read ≥ 2 × naive aiopg.sa",
    ("vote", "aiohttp"): "API vote ≥ 2 × naive aiopg.sa write",
    ("index", "aiohttp"): "polls index ≥ 0.9 × bare aiohttp-jinja2",
    ("health", "aiohttp"): "no-database JSON through the whole stack ≥ 0.85 × bare aiohttp",
}
MAX_P99_MS = 25.0
MAX_RSS_MIB = 80.0
MAX_STARTUP_SECONDS = 1.0
_API_READS = ("todo", "question", "list")


@dataclass(frozen=True, slots=True)
class TargetCheck:
    """One target: what was measured, and whether it is met (None: not measured)."""

    name: str
    measured: str
    met: bool | None


def check_targets(results: BenchResults) -> list[TargetCheck]:
    """Every target of the issue, in the issue's order."""
    checks = []
    for key, threshold in RATIO_TARGETS.items():
        ratio = results.ratio(*key)
        checks.append(
            TargetCheck(
                _RATIO_NAMES[key],
                "not measured" if ratio is None else f"{ratio:.2f} ×",
                None if ratio is None else ratio >= threshold,
            )
        )
    reads = [m for s in _API_READS if (m := results.find(s, "portal")) is not None]
    if reads:
        worst = max(reads, key=lambda m: m.p99_ms)
        checks.append(
            TargetCheck(
                f"p99 ≤ {MAX_P99_MS:g} ms for the API reads",
                f"worst {worst.p99_ms:.1f} ms ({worst.scenario})",
                worst.p99_ms <= MAX_P99_MS,
            )
        )
    else:
        checks.append(
            TargetCheck(f"p99 ≤ {MAX_P99_MS:g} ms for the API reads", "not measured", None)
        )
    ran = any(m.server == "portal" for m in results.measurements) or results.fanout is not None
    errors = results.portal_errors()
    checks.append(
        TargetCheck(
            "zero errors (portal)",
            str(errors) if ran else "not measured",
            (errors == 0) if ran else None,
        )
    )
    rss = results.rss_kb.get("portal")
    checks.append(
        TargetCheck(
            f"worker RSS ≤ {MAX_RSS_MIB:g} MB (MiB of VmRSS)",
            "not measured" if rss is None else f"{rss / 1024:.1f} MiB",
            None if rss is None else rss / 1024 <= MAX_RSS_MIB,
        )
    )
    startup = results.startup
    checks.append(
        TargetCheck(
            f"start-up to first response ≤ {MAX_STARTUP_SECONDS:g} s",
            "not measured" if startup is None else f"{startup.median:.2f} s (median)",
            None if startup is None else startup.median <= MAX_STARTUP_SECONDS,
        )
    )
    return checks
