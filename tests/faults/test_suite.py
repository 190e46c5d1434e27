"""The fault suite, shortened: the same code as ``make faults``, in well under a minute."""

from __future__ import annotations

from faults.config import SCENARIOS, FaultsConfig
from faults.suite import run

#: Every scenario once, briefly: one round of votes, a few seconds of load
#: around each fault, and a one-second stop. The kill's load lasts long enough
#: for gunicorn's replacement worker to boot and serve (it imports the whole
#: site) while another test process shares the CPUs (make test runs two).
SHORT = FaultsConfig(
    vote_rounds=1, load_seconds=5.0, outage_seconds=1.0, kill_seconds=12.0, clients=8
)


def test_a_short_fault_run_meets_every_requirement() -> None:
    printed: list[str] = []

    results = run(SHORT, say=printed.append)

    assert [result.name for result in results] == list(SCENARIOS)
    failures = {result.name: result.failures for result in results if result.failures}
    assert failures == {}, "\n".join(printed)
    # Each scenario measured something: no scenario passes by doing nothing.
    assert all(result.figures for result in results)
