"""Medians, error totals and ratios of a run's results."""

from __future__ import annotations

import pytest

from bench.fanout import parse_fanout_output
from bench.results import FanoutResult, StartupResult
from tests.bench.helpers import measured, results_with, run


def test_a_measurement_reports_medians_and_every_error() -> None:
    m = measured(
        "todo", "portal", run(900, 4, 20, errors=1), run(1000, 5, 30), run(1100, 6, 10, errors=2)
    )

    assert m.requests_per_second == 1000
    assert m.p50_ms == 5
    assert m.p99_ms == 20
    assert m.errors == 3


def test_the_ratio_is_portal_over_the_reference() -> None:
    results = results_with(
        measured("todo", "portal", run(1500)), measured("todo", "fastapi", run(3000))
    )

    assert results.ratio("todo", "fastapi") == pytest.approx(0.5)
    assert results.ratio("todo", "aiohttp") is None
    assert results.ratio("json", "fastapi") is None


def test_portal_errors_include_the_fanout() -> None:
    results = results_with(
        measured("todo", "portal", run(1, errors=2)), measured("todo", "fastapi", run(1, errors=5))
    )
    results.fanout = FanoutResult(
        sockets=500,
        connected=499,
        connect_seconds=1.0,
        all_received_ms=(10.0,),
        missed=3,
        failures=1,
    )

    assert results.portal_errors() == 2 + 3 + 1
    assert results.portal_errors(["todo"]) == 2


def test_fanout_timings() -> None:
    fanout = FanoutResult(
        sockets=500,
        connected=500,
        connect_seconds=1.0,
        all_received_ms=(30.0, 10.0, 20.0),
        missed=0,
        failures=0,
    )
    empty = FanoutResult(
        sockets=500, connected=0, connect_seconds=1.0, all_received_ms=(), missed=0, failures=500
    )

    assert (fanout.p50_ms, fanout.max_ms, fanout.errors) == (20.0, 30.0, 0)
    assert (empty.p50_ms, empty.max_ms, empty.errors) == (None, None, 500)


def test_the_fanout_clients_last_line_is_its_result() -> None:
    output = (
        "some warning\n"
        '{"sockets": 2, "connected": 2, "connect_seconds": 0.5, '
        '"all_received_ms": [1.5, 2.5], "missed": 0, "failures": 0}\n'
    )

    result = parse_fanout_output(output)

    assert result.all_received_ms == (1.5, 2.5)
    assert result.connected == 2


def test_startup_median() -> None:
    assert StartupResult(seconds=(0.9, 0.7, 1.4)).median == 0.9
