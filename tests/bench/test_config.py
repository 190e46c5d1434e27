"""``BENCH_*`` variables."""

from __future__ import annotations

import pytest

from bench.config import BenchConfig, ConfigError
from bench.scenarios import SCENARIOS, select_scenarios


def test_the_defaults_are_the_issues_protocol() -> None:
    config = BenchConfig.from_env({})

    assert (config.duration, config.runs, config.connections) == (10, 3, 50)
    assert (config.sockets, config.server_cpu, config.client_cpu) == (500, 0, 1)
    assert config.quick is False


def test_a_quick_run() -> None:
    config = BenchConfig.from_env(
        {"BENCH_DURATION": "2", "BENCH_RUNS": "1", "BENCH_SCENARIOS": "todo, fanout"}
    )

    assert (config.duration, config.runs, config.quick) == (2, 1, True)
    assert config.scenarios == ("todo", "fanout")


@pytest.mark.parametrize("value", ["0", "-1", "ten"])
def test_a_bad_duration_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="BENCH_DURATION"):
        BenchConfig.from_env({"BENCH_DURATION": value})


def test_no_warm_up_is_allowed() -> None:
    assert BenchConfig.from_env({"BENCH_WARMUP": "0"}).warmup == 0


def test_selecting_scenarios() -> None:
    assert select_scenarios(()) == (SCENARIOS, True)
    chosen, fanout = select_scenarios(("json", "todo"))
    assert [s.key for s in chosen] == ["todo", "json"]
    assert fanout is False
    with pytest.raises(ValueError, match="nope"):
        select_scenarios(("nope",))


def test_only_portal_gets_the_token() -> None:
    vote = next(s for s in SCENARIOS if s.key == "vote")

    assert vote.wrk_request("portal", "secret").args[-1] == "secret"
    assert vote.wrk_request("fastapi", "secret").args[-1] == ""
