"""How the fault suite judges what it measured, on made-up outcomes (no server)."""

from __future__ import annotations

import os
import socket

import pytest

from faults.config import FaultsConfig, parse_args
from faults.figures import ScenarioResult, Window, percentile, statuses
from faults.load import Outcome
from faults.scenarios import judge_outage
from faults.site import established_connections

CONFIG = FaultsConfig(recovery_limit=2.0)
#: PostgreSQL went down at 10 s and was back at 11 s; sessions were cut from 10 to 10.1 s.
OUTAGE = Window(10.0, 11.0)
SHUTDOWN = Window(10.0, 10.1)


def ok(kind: str = "api todos", at: float = 1.0) -> Outcome:
    return Outcome(kind, at, at + 0.01, 200, ok=True)


def failed(status: int | None, at: float, kind: str = "api todos") -> Outcome:
    error = "ServerDisconnectedError" if status is None else None
    return Outcome(kind, at, at + 0.01, status, error)


def judge(outcomes: list[Outcome], counted: int = 0) -> ScenarioResult:
    result = ScenarioResult("outage")
    judge_outage(result, outcomes, OUTAGE, SHUTDOWN, 0.0, CONFIG, counted, lambda line: None)
    return result


def test_503s_during_the_outage_and_just_after_pass() -> None:
    result = judge([ok(at=5.0), failed(503, 10.5), failed(503, 12.9), ok(at=20.0)])

    assert result.failures == []
    assert any("503: 2" in line for line in result.figures)


@pytest.mark.parametrize(
    ("outcome", "complaint"),
    [
        (failed(None, 10.5), "got no answer"),
        (failed(500, 10.5), "server error"),
        (failed(503, 5.0), "503 away from the outage"),
        (failed(404, 10.5), "unexpected"),
        (failed(503, 13.5), "after PostgreSQL was back"),
    ],
)
def test_each_broken_requirement_is_named(outcome: Outcome, complaint: str) -> None:
    result = judge([ok(), outcome])

    assert any(complaint in failure for failure in result.failures), result.failures


def test_every_vote_answered_200_must_be_counted() -> None:
    votes = [ok("vote"), ok("vote"), ok("vote")]

    assert judge(votes, counted=3).failures == []
    (failure,) = judge(votes, counted=2).failures
    assert "the count rose by 2" in failure
    assert judge(votes, counted=4).failures != []


def test_a_vote_cut_as_postgresql_went_down_may_or_may_not_count() -> None:
    votes = [ok("vote"), failed(503, 10.05, "vote"), failed(503, 10.5, "vote")]

    assert judge(votes, counted=1).failures == []
    assert judge(votes, counted=2).failures == []
    # The vote refused after the sessions were cut cannot have been counted.
    assert judge(votes, counted=3).failures != []


def test_figures() -> None:
    outcomes = [ok(), ok(), failed(503, 10.5), failed(None, 10.5)]

    assert statuses(outcomes) == "200: 2, 503: 1, ServerDisconnectedError: 1"
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.5) == 3.0
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.99) == 5.0
    assert percentile([], 0.5) == 0.0


def test_the_command_line_and_its_limits() -> None:
    config = parse_args(["--vote-rounds", "1", "--load-seconds", "2.5", "--scenarios", "votes"])

    assert (config.vote_rounds, config.load_seconds, config.scenarios) == (1, 2.5, ("votes",))
    assert parse_args([]) == FaultsConfig()
    with pytest.raises(ValueError, match="outage_seconds"):
        FaultsConfig(outage_seconds=0)
    with pytest.raises(ValueError, match="scenarios"):
        FaultsConfig(scenarios=("nope",))
    with pytest.raises(SystemExit):
        parse_args(["--clients", "0"])


def test_established_connections_counts_a_process_s_accepted_sockets_on_the_port() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        # The listening socket is not a connection.
        assert established_connections(os.getpid(), port) == 0
        with socket.create_connection(("127.0.0.1", port)):
            accepted, _ = server.accept()
            with accepted:
                # The accepted socket has the port as its local one; the client's has not.
                assert established_connections(os.getpid(), port) == 1
