"""``python -m bench`` (``make bench``): the whole load benchmark, start to report.

1. Start the benchmark's own embedded PostgreSQL, migrate, seed (once) and
   create a token for the ``bench`` user.
2. For each server (portal, the bare aiohttp reference, FastAPI), alone and
   pinned to the server core: ask one sample request per scenario (to compare
   the responses), then per scenario a wrk warm-up and the measured runs; for
   portal also the WebSocket fan-out; then read the worker's RSS.
3. Time portal's start-up, then write the table to stdout and the report to
   ``docs/benchmarks.md`` and ``docs/benchmarks.png``.

Settings come from ``BENCH_*`` variables (:mod:`bench.config`).
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Sequence

from bench.chart import ratio_bars, write_chart
from bench.config import BenchConfig, ConfigError
from bench.data import (
    ApiToken,
    portal_env,
    postgres_version,
    prepare_database,
    revoke_token,
    start_database,
    stop_database,
)
from bench.fanout import fanout_command, raise_open_files_limit, run_fanout
from bench.machine import load_average, machine_facts
from bench.parity import Sample, compare_samples, fetch_sample
from bench.report import generated_section, replace_generated, results_table
from bench.results import BenchResults, Measurement
from bench.scenarios import Scenario, select_scenarios
from bench.servers import (
    RunningServer,
    ServerSpec,
    fastapi_server,
    portal_limited_server,
    portal_server,
    read_rss_kb,
    reference_aiohttp_server,
    running,
    uses_uvloop,
    worker_pid,
)
from bench.startup import measure_startup
from bench.targets import check_targets
from bench.wrk import WrkError, run_wrk, wrk_command

__all__ = ["main"]

#: The live-results socket and the vote of the fan-out.
_FANOUT_QUESTION, _FANOUT_CHOICE = 1, 1


def _say(text: str) -> None:
    print(text, flush=True)


def _measure(
    scenario: Scenario, server: RunningServer, label: str, token: ApiToken, config: BenchConfig
) -> Measurement:
    request = scenario.wrk_request(server.spec.key, token.secret)

    def command(duration: int) -> list[str]:
        return wrk_command(
            server.url + request.path,
            duration=duration,
            connections=config.connections,
            timeout=config.timeout,
            cpu=config.client_cpu,
            script=request.script,
            script_args=request.args,
        )

    limit = config.duration + config.timeout + 30
    if config.warmup:
        run_wrk(command(config.warmup), limit=limit)
    runs = tuple(run_wrk(command(config.duration), limit=limit) for _ in range(config.runs))
    # The report shows the command, never the token.
    shown = tuple("$TOKEN" if part == token.secret else part for part in command(config.duration))
    measurement = Measurement(scenario.key, server.spec.key, label, runs, shown)
    _say(
        f"  {scenario.key:<9} {label:<26} {measurement.requests_per_second:>9,.0f} req/s"
        f"  p50 {measurement.p50_ms:6.2f} ms  p99 {measurement.p99_ms:7.2f} ms"
        f"  errors {measurement.errors}"
    )
    return measurement


def _samples(
    scenarios: Sequence[Scenario], server: RunningServer, token: ApiToken
) -> dict[str, Sample]:
    samples = {}
    for scenario in scenarios:
        headers = {}
        if scenario.authenticated and server.spec.key == "portal":
            headers["Authorization"] = f"Bearer {token.secret}"
        samples[scenario.key] = fetch_sample(
            server.url, scenario.method, scenario.sample_path, headers
        )
    return samples


def _compare(scenarios: Sequence[Scenario], samples: dict[str, dict[str, Sample]]) -> list[str]:
    problems = []
    portal = samples.get("portal", {})
    for scenario in scenarios:
        for server, label in scenario.references:
            ours, theirs = portal.get(scenario.key), samples.get(server, {}).get(scenario.key)
            if ours is None or theirs is None:
                continue
            problems += compare_samples(
                f"{scenario.title} vs {label}", ours, theirs, volatile=("votes",)
            )
    return problems


def _run_server(
    spec: ServerSpec,
    scenarios: Sequence[Scenario],
    with_fanout: bool,
    token: ApiToken,
    config: BenchConfig,
    results: BenchResults,
    samples: dict[str, dict[str, Sample]],
) -> None:
    log = config.data_dir / "logs" / f"{spec.key}.log"
    with running(spec, cpu=config.server_cpu, log=log) as server:
        _say(f"{spec.label}: pid {server.pid} at {server.url}")
        results.server_commands[spec.key] = server.command
        results.server_labels[spec.key] = spec.label
        samples[spec.key] = _samples(scenarios, server, token)
        for scenario in scenarios:
            label = dict((("portal", "portal"), *scenario.references))[spec.key]
            results.measurements.append(_measure(scenario, server, label, token, config))
        # After the HTTP load, before the fan-out's sockets add their own buffers.
        results.rss_kb[spec.key] = read_rss_kb(worker_pid(server.pid))
        results.server_uvloop[spec.key] = uses_uvloop(worker_pid(server.pid))
        _say(
            f"  worker RSS {results.rss_kb[spec.key] / 1024:.1f} MiB; "
            f"uvloop {'loaded' if results.server_uvloop[spec.key] else 'not loaded'}"
        )
        if with_fanout:
            command = fanout_command(
                config.client_cpu,
                server.url,
                question_id=_FANOUT_QUESTION,
                choice_id=_FANOUT_CHOICE,
                sockets=config.sockets,
                votes=config.votes,
            )
            results.fanout_command = tuple(command)
            fanout = run_fanout(command, token.secret, limit=120 + 15 * config.votes)
            results.fanout = fanout
            results.fanout_rss_kb = read_rss_kb(worker_pid(server.pid))
            _say(
                f"  fanout    {fanout.connected}/{fanout.sockets} sockets; all received in "
                f"p50 {fanout.p50_ms or 0:.1f} ms, max {fanout.max_ms or 0:.1f} ms; "
                f"errors {fanout.errors}; RSS then {results.fanout_rss_kb / 1024:.1f} MiB"
            )


def _estimate_seconds(scenarios: Sequence[Scenario], config: BenchConfig) -> float:
    pairs = sum(len(s.servers()) for s in scenarios)
    return pairs * (config.warmup + config.runs * (config.duration + 0.2)) + 60


def run(config: BenchConfig) -> int:
    """One whole benchmark run; 1 if any part of it failed (the report says which)."""
    scenarios, with_fanout = select_scenarios(config.scenarios)
    if shutil.which("wrk") is None:
        print("bench: wrk is not installed (apt-get install -y wrk; make bench does it)")
        return 2
    started = time.monotonic()
    load_before = load_average()
    _say(f"bench: about {_estimate_seconds(scenarios, config) / 60:.0f} min")
    url = start_database(config.data_dir)
    token = prepare_database(url, config.data_dir)
    results = BenchResults()
    samples: dict[str, dict[str, Sample]] = {}
    try:
        specs = (
            portal_server(portal_env(url, config.data_dir)),
            portal_limited_server(portal_env(url, config.data_dir)),
            reference_aiohttp_server(url, uvloop=config.ref_uvloop),
            fastapi_server(url),
        )
        for spec in specs:
            its = [s for s in scenarios if spec.key in s.servers()]
            fanout = with_fanout and spec.key == "portal"
            if not its and not fanout:
                continue
            try:
                _run_server(spec, its, fanout, token, config, results, samples)
            except (RuntimeError, WrkError, OSError) as exc:
                results.notes.append(f"{spec.label} failed: {exc}")
                _say(f"  FAILED: {exc}")
        results.parity = _compare(scenarios, samples)
        if with_fanout or any("portal" in s.servers() for s in scenarios):
            results.startup = measure_startup(
                portal_env(url, config.data_dir), cpu=config.server_cpu, times=config.startups
            )
            _say(f"portal start-up: {results.startup.seconds}")
        facts = machine_facts(postgres_version(url), load_before)
    finally:
        revoke_token(url, config.data_dir, token)
        if not config.keep_db:
            stop_database(config.data_dir)
    wall = time.monotonic() - started
    checks = check_targets(results)
    chart = config.docs_dir / "benchmarks.png"
    bars = ratio_bars(results, scenarios)
    if bars:
        quick = " (quick run)" if config.quick else ""
        write_chart(bars, chart, f"portal / reference requests per second{quick}")
    section = generated_section(
        results,
        scenarios,
        checks,
        facts,
        config,
        wall_seconds=wall,
        chart=chart.name if bars else None,
    )
    document = config.docs_dir / "benchmarks.md"
    existing = document.read_text(encoding="utf-8") if document.exists() else None
    config.docs_dir.mkdir(parents=True, exist_ok=True)
    document.write_text(replace_generated(existing, section), encoding="utf-8")
    _say("")
    _say(results_table(results, scenarios))
    _say("")
    for check in checks:
        mark = {True: "met", False: "NOT MET", None: "not measured"}[check.met]
        _say(f"  {mark:<12} {check.name}: {check.measured}")
    for problem in results.parity:
        _say(f"  response differs: {problem}")
    _say(f"\nwritten {document} and {chart} in {wall / 60:.1f} min")
    return 1 if results.notes else 0


def main() -> int:
    """Read the configuration, pin ourselves beside the load generators, run."""
    try:
        config = BenchConfig.from_env()
    except ConfigError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    # The orchestrator only waits while wrk runs: keep it off the servers' core.
    os.sched_setaffinity(0, {config.client_cpu})
    # Inherited by every server: the fan-out holds hundreds of sockets open.
    raise_open_files_limit()
    return run(config)


if __name__ == "__main__":
    sys.exit(main())
