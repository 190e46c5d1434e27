"""The issue's targets, checked against results."""

from __future__ import annotations

from bench.results import StartupResult
from bench.targets import check_targets
from tests.bench.helpers import measured, results_with, run


def test_ratio_targets_are_met_or_not_against_their_threshold() -> None:
    results = results_with(
        measured("todo", "portal", run(3000, p99=12)),
        measured("todo", "fastapi", run(3000)),
        measured("todo", "aiohttp", run(2000)),
        measured("index", "portal", run(890)),
        measured("index", "aiohttp", run(1000)),
    )

    checks = {check.name: check for check in check_targets(results)}

    assert checks["API one-row read ≥ 1.0 × FastAPI + asyncpg"].met is True
    assert checks["API one-row read ≥ 2 × naive aiopg.sa"].met is False
    assert checks["API one-row read ≥ 2 × naive aiopg.sa"].measured == "1.50 ×"
    assert checks["polls index ≥ 0.9 × bare aiohttp-jinja2"].met is False
    assert checks["API vote ≥ 2 × naive aiopg.sa write"].met is None


def test_p99_errors_rss_and_startup() -> None:
    results = results_with(
        measured("todo", "portal", run(1, p99=12)),
        measured("list", "portal", run(1, p99=31.5)),
        measured("json", "portal", run(1, p99=99, errors=1)),
    )
    results.startup = StartupResult(seconds=(0.8, 0.9, 2.0))

    checks = {check.name: check for check in check_targets(results)}

    p99 = checks["p99 ≤ 25 ms for the API reads"]
    assert (p99.met, p99.measured) == (False, "worst 31.5 ms (list)")
    assert checks["zero errors (portal)"].met is False
    assert checks["worker RSS ≤ 80 MB (MiB of VmRSS)"].met is True
    assert checks["start-up to first response ≤ 1 s"].met is True


def test_nothing_measured_is_not_a_pass() -> None:
    checks = check_targets(results_with())

    assert all(check.met is None for check in checks if "RSS" not in check.name)
