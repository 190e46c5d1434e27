"""The scenarios: each drives load, breaks something, prints its figures, judges the result.

1. ``votes``: rounds of concurrent votes on one choice; every count exact.
2. ``restart`` and ``stop``: mixed load while PostgreSQL restarts, or stops
   for a while and starts again: every request answered, no 500, 503 only
   around the outage, full service soon after, every answered vote counted.
3. ``kill``: mixed load while a worker is killed with SIGKILL: gunicorn
   replaces it, and no more requests fail than the worker had in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import traceback
from collections.abc import Awaitable, Callable

from faults.config import FaultsConfig
from faults.figures import ScenarioResult, Window, latencies, statuses
from faults.load import MixedLoad, Outcome, session, timed
from faults.site import Site

__all__ = [
    "SCENARIO_TITLES",
    "Say",
    "Scenario",
    "judge_outage",
    "run_scenario",
    "scenario_limit",
]

#: Prints one line of figures as the run goes.
Say = Callable[[str], None]
Scenario = Callable[[Site, FaultsConfig, Say], Awaitable[ScenarioResult]]

SCENARIO_TITLES = {
    "votes": "concurrent votes on one choice",
    "restart": "mixed load, PostgreSQL restarted in the middle",
    "stop": "mixed load, PostgreSQL stopped in the middle, then started",
    "kill": "mixed load, a worker killed with SIGKILL",
}


async def votes_scenario(site: Site, config: FaultsConfig, say: Say) -> ScenarioResult:
    """``config.vote_rounds`` rounds of ``config.votes`` votes at once on one choice."""
    result = ScenarioResult("votes")
    question_id, choice_id = await asyncio.to_thread(site.new_choice, "votes")
    url = f"{site.url}/api/questions/{question_id}/choices/{choice_id}/vote"
    async with session(site.token, limit=config.votes) as http:

        async def vote() -> int:
            async with http.post(url) as response:
                await response.read()
                return response.status

        for number in range(1, config.vote_rounds + 1):
            before = await asyncio.to_thread(site.votes, choice_id)
            started = time.monotonic()
            outcomes = await asyncio.gather(
                *(timed("vote", 200, vote, config.request_timeout) for _ in range(config.votes))
            )
            took = time.monotonic() - started
            counted = await asyncio.to_thread(site.votes, choice_id) - before
            answered = sum(outcome.ok for outcome in outcomes)
            line = (
                f"round {number:>2}: {statuses(outcomes)}; count +{counted} for {config.votes} "
                f"votes in {took:.2f} s; {latencies(outcomes)}"
            )
            result.figures.append(line)
            say(line)
            result.require(
                answered == config.votes,
                f"round {number}: {config.votes - answered} of {config.votes} votes were not "
                f"answered 200 ({statuses(outcomes)})",
            )
            result.require(
                counted == config.votes,
                f"round {number}: the count rose by {counted} for {config.votes} votes",
            )
    return result


async def outage_scenario(
    site: Site, config: FaultsConfig, say: Say, *, stop: bool
) -> ScenarioResult:
    """Mixed load; in its middle PostgreSQL restarts, or (*stop*) stops, waits, starts."""
    kind = "stop" if stop else "restart"
    result = ScenarioResult(kind)
    question_id, choice_id = await asyncio.to_thread(site.new_choice, kind)
    before = await asyncio.to_thread(site.votes, choice_id)
    workers = set(site.workers())
    load = MixedLoad(site.url, question_id, choice_id, label=f"{kind} run")
    # The outage sits in the middle of the load.
    fault_at = (config.load_seconds - (config.outage_seconds if stop else 0.0)) / 2
    async with session(site.token, limit=config.clients) as http:
        began = time.monotonic()
        running = asyncio.create_task(
            load.run(
                http,
                seconds=config.load_seconds,
                clients=config.clients,
                limit=config.request_timeout,
            )
        )
        try:
            await asyncio.sleep(fault_at)
            start = time.monotonic()
            if stop:
                down = await _until_down(site, asyncio.to_thread(site.stop_postgres))
                await asyncio.sleep(config.outage_seconds)
                await asyncio.to_thread(site.start_postgres)
            else:
                down = await _until_down(site, asyncio.to_thread(site.restart_postgres))
            window = Window(start, time.monotonic())
            outcomes = await running
        finally:
            await _cancel(running)
    counted = await asyncio.to_thread(site.votes, choice_id) - before
    judge_outage(result, outcomes, window, Window(start, down), began, config, counted, say)
    replaced = workers - set(site.workers())
    line = f"workers: {'unchanged' if not replaced else f'{len(replaced)} replaced'}"
    result.figures.append(line)
    say(line)
    result.require(not replaced, f"{len(replaced)} worker(s) exited during the outage")
    return result


async def _cancel(task: asyncio.Task[list[Outcome]]) -> None:
    """Stop the load if a fault went wrong midway (a no-op once it has finished)."""
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _until_down(site: Site, fault: Awaitable[None]) -> float:
    """Cause *fault*; when PostgreSQL was down (its socket gone), on the suite's clock.

    Sessions are terminated at the start of a shutdown and the socket is
    removed at its end: between the two, an answered statement may or may
    not have been committed.
    """
    task = asyncio.ensure_future(fault)
    down: float | None = None
    while not task.done():
        if down is None and not site.postgres_socket.exists():
            down = time.monotonic()
        await asyncio.sleep(0.005)
    await task
    return down if down is not None else time.monotonic()


def judge_outage(
    result: ScenarioResult,
    outcomes: list[Outcome],
    window: Window,
    shutdown: Window,
    began: float,
    config: FaultsConfig,
    counted: int,
    say: Say,
) -> None:
    """Figures and requirements of an outage (``result.name``: restart or stop).

    *window* runs from the fault to PostgreSQL accepting connections again;
    *shutdown* from the fault to PostgreSQL being down, the time in which it
    cut its sessions.
    """
    allowed_until = window.end + config.recovery_limit

    def around(outcome: Outcome) -> bool:
        return outcome.ended >= window.start and outcome.started <= allowed_until

    failed = [o for o in outcomes if not o.ok]
    unanswered = [o for o in failed if o.status is None]
    errors = [o for o in failed if o.status is not None and o.status >= 500 and o.status != 503]
    stray_503 = [o for o in failed if o.status == 503 and not around(o)]
    unexpected = [o for o in failed if o.status is not None and o.status < 500]
    late = [o for o in failed if o.started > allowed_until]
    votes = [o for o in outcomes if o.kind == "vote"]
    answered_votes = sum(o.ok for o in votes)
    # A vote cut while PostgreSQL terminated its session may have committed
    # just before: PostgreSQL's own protocol leaves that outcome unknown.
    cut = [o for o in votes if not o.ok and o.started <= shutdown.end and o.ended >= shutdown.start]
    last_failure = max((o.started for o in failed), default=None)
    recovery = (
        "no request failed"
        if last_failure is None
        else f"the last failed request started {last_failure - window.end:+.2f} s from then"
    )
    seconds = max((o.ended for o in outcomes), default=began) - began
    near = [o for o in outcomes if around(o)]
    away = [o for o in outcomes if not around(o)]
    lines = [
        f"{len(outcomes)} requests in {seconds:.1f} s ({len(outcomes) / seconds:.0f}/s) "
        f"from {config.clients} clients: {statuses(outcomes)}",
        f"PostgreSQL {result.name} at +{window.start - began:.1f} s: down after "
        f"{shutdown.seconds:.2f} s, serving again after {window.seconds:.2f} s; {recovery}",
        f"around the outage (to {config.recovery_limit:g} s after): {statuses(near)}; "
        f"{latencies(near)}",
        f"away from it: {statuses(away)}; {latencies(away)}",
        f"votes: {answered_votes} of {len(votes)} answered 200, the count rose by {counted}; "
        f"{len(cut)} failed while PostgreSQL was going down",
    ]
    for line in lines:
        result.figures.append(line)
        say(line)
    result.require(
        not unanswered, f"{len(unanswered)} requests got no answer ({statuses(unanswered)})"
    )
    result.require(
        not errors, f"{len(errors)} requests answered a server error ({statuses(errors)})"
    )
    result.require(not stray_503, f"{len(stray_503)} requests answered 503 away from the outage")
    result.require(
        not unexpected, f"{len(unexpected)} requests answered an unexpected {statuses(unexpected)}"
    )
    result.require(
        not late,
        f"{len(late)} requests failed more than {config.recovery_limit:g} s after PostgreSQL "
        f"was back ({statuses(late)})",
    )
    result.require(
        answered_votes <= counted <= answered_votes + len(cut),
        f"the count rose by {counted}: {answered_votes} votes were answered 200, and "
        f"{len(cut)} more may have been committed as PostgreSQL went down",
    )


async def restart_scenario(site: Site, config: FaultsConfig, say: Say) -> ScenarioResult:
    """PostgreSQL restarted under load."""
    return await outage_scenario(site, config, say, stop=False)


async def stop_scenario(site: Site, config: FaultsConfig, say: Say) -> ScenarioResult:
    """PostgreSQL stopped for ``config.outage_seconds`` under load, then started."""
    return await outage_scenario(site, config, say, stop=True)


async def kill_scenario(site: Site, config: FaultsConfig, say: Say) -> ScenarioResult:
    """Mixed load; a third of the way in, the busiest worker is killed with SIGKILL.

    The client opens a connection per request, so the worker's open client
    connections are its requests in flight (an upper bound: a response just
    written may not be read yet). Requests still in the listening socket's
    queue belong to no worker; another one accepts them.
    """
    result = ScenarioResult("kill")
    question_id, choice_id = await asyncio.to_thread(site.new_choice, "kill")
    before = await asyncio.to_thread(site.votes, choice_id)
    load = MixedLoad(site.url, question_id, choice_id, label="kill run")
    async with session(site.token, limit=config.clients, keep_alive=False) as http:
        began = time.monotonic()
        end = began + config.kill_seconds
        running = asyncio.create_task(
            load.run(
                http,
                seconds=config.kill_seconds,
                clients=config.clients,
                limit=config.request_timeout,
            )
        )
        try:
            await asyncio.sleep(config.kill_seconds / 3)
            workers = site.workers()
            victim, in_flight = await _stop_a_busy_worker(site, workers, end)
            os.kill(victim, signal.SIGKILL)
            killed = time.monotonic()
            spawned, serving = await _replacement(site, set(workers), end)
            outcomes = await running
        finally:
            await _cancel(running)
    counted = await asyncio.to_thread(site.votes, choice_id) - before
    failed = [o for o in outcomes if not o.ok]
    votes = [o for o in outcomes if o.kind == "vote"]
    answered_votes = sum(o.ok for o in votes)
    failed_votes = len(votes) - answered_votes
    when = (
        f", ended {min(o.ended for o in failed) - killed:+.2f} to "
        f"{max(o.ended for o in failed) - killed:+.2f} s from the kill"
        if failed
        else ""
    )
    lines = [
        f"{len(outcomes)} requests from {config.clients} clients: {statuses(outcomes)}; "
        f"{latencies(outcomes)}",
        f"killed worker {victim} at +{killed - began:.1f} s with {in_flight} requests in flight; "
        f"{len(failed)} requests failed ({statuses(failed)}){when}",
        "replacement: "
        + (f"spawned after {spawned:.2f} s" if spawned is not None else "never spawned")
        + (f", serving after {serving:.2f} s" if serving is not None else ", never served"),
        f"votes: {answered_votes} answered 200, {failed_votes} failed, the count rose by {counted}",
    ]
    for line in lines:
        result.figures.append(line)
        say(line)
    result.require(
        len(failed) <= in_flight,
        f"{len(failed)} requests failed, more than the {in_flight} the worker had in flight",
    )
    result.require(spawned is not None, "gunicorn did not replace the killed worker")
    result.require(serving is not None, "the new worker served no request before the load ended")
    result.require(
        answered_votes <= counted <= answered_votes + failed_votes,
        f"the count rose by {counted}: not between the {answered_votes} votes answered and "
        f"{answered_votes + failed_votes} sent",
    )
    return result


async def _stop_a_busy_worker(site: Site, workers: list[int], end: float) -> tuple[int, int]:
    """Freeze (SIGSTOP) the busiest worker once it has requests in flight; it and their number.

    Frozen, it neither finishes nor starts a request while they are counted.
    A worker caught idle is let go on and tried again a moment later, so the
    kill lands under load rather than between two requests.
    """
    while True:
        victim = max(workers, key=site.connections)
        os.kill(victim, signal.SIGSTOP)
        in_flight = site.connections(victim)
        if in_flight or time.monotonic() >= end:
            return victim, in_flight
        os.kill(victim, signal.SIGCONT)
        await asyncio.sleep(0.02)


async def _replacement(
    site: Site, before: set[int], end: float
) -> tuple[float | None, float | None]:
    """Seconds until a new worker appeared, and until it held a client connection."""
    started = time.monotonic()
    spawned: float | None = None
    new: int | None = None
    while time.monotonic() < end:
        if new is None:
            fresh = set(site.workers()) - before
            if fresh:
                new = fresh.pop()
                spawned = time.monotonic() - started
        elif site.connections(new) > 0:
            return spawned, time.monotonic() - started
        await asyncio.sleep(0.01)
    return spawned, None


_SCENARIOS: dict[str, Scenario] = {
    "votes": votes_scenario,
    "restart": restart_scenario,
    "stop": stop_scenario,
    "kill": kill_scenario,
}


def scenario_limit(name: str, config: FaultsConfig) -> float:
    """The most a scenario may take before it counts as hung (generous)."""
    if name == "votes":
        return config.vote_rounds * (config.request_timeout + 10) + 30
    seconds = config.kill_seconds if name == "kill" else config.load_seconds
    return seconds + config.outage_seconds + config.request_timeout + 60


async def run_scenario(name: str, site: Site, config: FaultsConfig, say: Say) -> ScenarioResult:
    """Run scenario *name* within its time limit; a crash or a hang is a failed result."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(scenario_limit(name, config)):
            result = await _SCENARIOS[name](site, config, say)
    except TimeoutError:
        result = ScenarioResult(
            name, failures=[f"did not finish within {scenario_limit(name, config):.0f} s"]
        )
    except Exception as exc:
        say(traceback.format_exc())
        result = ScenarioResult(name, failures=[f"crashed: {type(exc).__name__}: {exc}"])
    result.seconds = time.monotonic() - started
    return result
