"""Reading wrk's ``--latency`` report, and building its command line."""

from __future__ import annotations

import pytest

from bench.wrk import LUA_DIR, WrkError, parse_duration_ms, parse_wrk_output, wrk_command

# Verbatim from wrk 4.1.0 (a vote without a token: every response a 401).
WITH_STATUS_ERRORS = """\
Running 2s test @ http://127.0.0.1:18080
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    10.34ms    1.22ms  16.98ms   85.68%
    Req/Sec     4.83k   358.78     5.33k    75.00%
  Latency Distribution
     50%    9.90ms
     75%   10.80ms
     90%   11.69ms
     99%   14.97ms
  9616 requests in 2.00s, 5.58MB read
  Non-2xx or 3xx responses: 9616
Requests/sec:   4803.62
Transfer/sec:      2.79MB
"""

CLEAN_WITH_MIXED_UNITS = """\
Running 10s test @ http://127.0.0.1:8080/api/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   812.00us  101.00us   1.02s    99.00%
    Req/Sec    61.00k     1.00k   63.00k    80.00%
  Latency Distribution
     50%  798.00us
     75%  850.00us
     90%    0.90ms
     99%    1.02s
  610000 requests in 10.00s, 90.00MB read
Requests/sec:  60999.50
Transfer/sec:      9.00MB
"""

WITH_SOCKET_ERRORS = """\
Running 10s test @ http://127.0.0.1:8080/polls/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    40.00ms   10.00ms   2.00s    90.00%
    Req/Sec     1.20k   100.00     1.30k    70.00%
  Latency Distribution
     50%   38.50ms
     75%   42.00ms
     90%   50.00ms
     99%  120.25ms
  12000 requests in 10.01s, 20.00MB read
  Socket errors: connect 1, read 12, write 0, timeout 3
  Non-2xx or 3xx responses: 4
Requests/sec:   1198.80
Transfer/sec:      2.00MB
"""


def test_a_clean_run_has_no_errors_and_converts_every_unit() -> None:
    result = parse_wrk_output(CLEAN_WITH_MIXED_UNITS)

    assert result.requests == 610_000
    assert result.seconds == pytest.approx(10.0)
    assert result.requests_per_second == pytest.approx(60999.5)
    assert result.p50_ms == pytest.approx(0.798)
    assert result.p99_ms == pytest.approx(1020.0)
    assert result.non_2xx_3xx == 0
    assert result.socket_errors == {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    assert result.errors == 0


def test_non_2xx_or_3xx_responses_are_errors() -> None:
    result = parse_wrk_output(WITH_STATUS_ERRORS)

    assert result.requests == 9616
    assert result.requests_per_second == pytest.approx(4803.62)
    assert result.p50_ms == pytest.approx(9.90)
    assert result.p99_ms == pytest.approx(14.97)
    assert result.non_2xx_3xx == 9616
    assert result.errors == 9616


def test_socket_errors_of_every_kind_add_to_the_bad_statuses() -> None:
    result = parse_wrk_output(WITH_SOCKET_ERRORS)

    assert result.socket_errors == {"connect": 1, "read": 12, "write": 0, "timeout": 3}
    assert result.non_2xx_3xx == 4
    assert result.errors == 1 + 12 + 3 + 4
    assert result.seconds == pytest.approx(10.01)
    assert result.p99_ms == pytest.approx(120.25)


def test_a_report_without_latency_percentiles_is_refused() -> None:
    without = "\n".join(
        line for line in CLEAN_WITH_MIXED_UNITS.splitlines() if "%" not in line or "Stdev" in line
    )
    with pytest.raises(WrkError, match="--latency"):
        parse_wrk_output(without)


def test_an_empty_report_is_refused() -> None:
    with pytest.raises(WrkError):
        parse_wrk_output("unable to connect to 127.0.0.1:1 Connection refused\n")


@pytest.mark.parametrize(
    ("text", "ms"),
    [("812.00us", 0.812), ("4.21ms", 4.21), ("1.02s", 1020.0), ("2.00m", 120_000.0), ("3ms", 3.0)],
)
def test_durations(text: str, ms: float) -> None:
    assert parse_duration_ms(text) == pytest.approx(ms)


def test_an_unknown_unit_is_refused() -> None:
    with pytest.raises(WrkError):
        parse_duration_ms("4.2 parsecs")


def test_the_command_is_pinned_with_one_thread_and_passes_the_script_arguments() -> None:
    command = wrk_command(
        "http://127.0.0.1:8080",
        duration=10,
        connections=50,
        timeout=2,
        cpu=1,
        script="random_id.lua",
        script_args=("/api/todos/%d", "10000"),
    )

    assert command[:3] == ["taskset", "-c", "1"]
    assert command[3:9] == ["wrk", "-t1", "-c50", "-d10s", "--timeout=2s", "--latency"]
    assert command[9:11] == ["-s", str(LUA_DIR / "random_id.lua")]
    assert command[11:] == ["http://127.0.0.1:8080", "--", "/api/todos/%d", "10000"]


def test_every_script_a_scenario_names_exists() -> None:
    from bench.scenarios import SCENARIOS

    for scenario in SCENARIOS:
        if scenario.request.script is not None:
            assert (LUA_DIR / scenario.request.script).is_file()
