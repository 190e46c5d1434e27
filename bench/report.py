"""The report: a table on stdout and ``docs/benchmarks.md`` (the chart is :mod:`bench.chart`).

Only the part of ``docs/benchmarks.md`` between :data:`BEGIN` and :data:`END`
is generated; text outside the markers (the findings) is kept as written.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence

from bench.config import ROOT, BenchConfig
from bench.results import BenchResults, Measurement
from bench.scenarios import Scenario
from bench.targets import RATIO_TARGETS, TargetCheck

__all__ = [
    "BEGIN",
    "END",
    "generated_section",
    "replace_generated",
    "results_table",
    "shown_command",
]

BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"

_NEW_DOCUMENT = f"""# Benchmarks

`make bench` measures portal against reference servers on one machine and
writes the section between the markers below; everything outside them is
written by hand and kept across runs.

## Findings

(Profiles and explanations go here.)

{BEGIN}
{END}
"""


def _rate(value: float) -> str:
    return f"{value:,.0f}"


def _errors(measurement: Measurement) -> str:
    kinds = measurement.error_kinds
    if not kinds:
        return "0"
    return f"{measurement.errors} ({', '.join(f'{k} {n}' for k, n in kinds.items())})"


def results_table(results: BenchResults, scenarios: Sequence[Scenario]) -> str:
    """The Markdown table: each scenario's portal row, then one row per reference."""
    lines = [
        "| Scenario | Server | Requests/s | p50 (ms) | p99 (ms) | Errors | Worker RSS (MiB) "
        "| portal / ref |",
        "|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for scenario in scenarios:
        first = True
        for server, label in (("portal", "portal"), *scenario.references):
            measurement = results.find(scenario.key, server)
            if measurement is None:
                continue
            rss = results.rss_kb.get(server)
            ratio = results.ratio(scenario.key, server) if server != "portal" else None
            target = RATIO_TARGETS.get((scenario.key, server))
            ratio_text = "" if ratio is None else f"{ratio:.2f}"
            if ratio is not None and target is not None:
                ratio_text += f" (target ≥ {target:g})"
            name = f"**{label}**" if server == "portal" else label
            lines.append(
                f"| {scenario.title if first else ''} | {name} "
                f"| {_rate(measurement.requests_per_second)} | {measurement.p50_ms:.2f} "
                f"| {measurement.p99_ms:.2f} | {_errors(measurement)} "
                f"| {'' if rss is None else f'{rss / 1024:.1f}'} | {ratio_text} |"
            )
            first = False
    return "\n".join(lines)


def _targets_table(checks: Sequence[TargetCheck]) -> str:
    marks = {True: "✅ met", False: "❌ not met", None: "— not measured"}
    lines = ["| Target | Measured | |", "|---|---|---|"]
    lines += [f"| {c.name} | {c.measured} | {marks[c.met]} |" for c in checks]
    return "\n".join(lines)


def _fanout_text(results: BenchResults) -> str:
    fanout = results.fanout
    if fanout is None:
        return "WebSocket fan-out: not run."
    if fanout.p50_ms is None or fanout.max_ms is None:
        timing = "no vote was timed"
    else:
        timing = (
            f"a vote reached all of them in **p50 {fanout.p50_ms:.1f} ms, max "
            f"{fanout.max_ms:.1f} ms** over {len(fanout.all_received_ms)} votes "
            f"({', '.join(f'{t:.1f}' for t in fanout.all_received_ms)} ms)"
        )
    rss = results.fanout_rss_kb
    memory = "" if rss is None else f" Worker RSS with the sockets open: {rss / 1024:.1f} MiB."
    return (
        f"WebSocket fan-out (portal only): {fanout.connected} of {fanout.sockets} live-result "
        f"sockets opened in {fanout.connect_seconds:.2f} s; {timing}; "
        f"{fanout.missed} deliveries missed, {fanout.failures} sockets or votes failed.{memory}"
    )


def _startup_text(results: BenchResults) -> str:
    startup = results.startup
    if startup is None:
        return "Start-up to first response: not measured."
    each = ", ".join(f"{s:.2f}" for s in startup.seconds)
    return (
        f"Start-up to first response (spawn to the first 200 from `/healthz`, database "
        f"already running): **median {startup.median:.2f} s** ({each} s)."
    )


_PORT = re.compile(r"(127\.0\.0\.1:|--port )[0-9]+")


def shown_command(command: Sequence[str]) -> str:
    """*command* as run from the repository root, its port (new every run) as ``$PORT``."""
    root = f"{ROOT}/"
    text = shlex.join(part.removeprefix(root) for part in command)
    return _PORT.sub(r"\1$PORT", text)


def _commands(results: BenchResults) -> str:
    lines = ["```sh", "# servers, one at a time, pinned to the server core"]
    lines += [shown_command(command) for command in results.server_commands.values()]
    lines.append("# load, pinned to the client core (the same line for every server)")
    seen: list[str] = []
    for measurement in results.measurements:
        text = shown_command(measurement.command)
        if measurement.command and text not in seen:
            seen.append(text)
    lines += seen
    if results.fanout_command:
        lines += ["# WebSocket fan-out client", shown_command(results.fanout_command)]
    if results.startup is not None and results.startup.command:
        lines += ["# start-up timing", shown_command(results.startup.command)]
    lines.append("```")
    return "\n".join(lines)


def _loops(results: BenchResults) -> str:
    loops = [
        f"{results.server_labels.get(key, key)}: {'uvloop' if on else 'asyncio'}"
        for key, on in results.server_uvloop.items()
    ]
    return (
        "- Event loop (uvloop's extension loaded in the worker or not): "
        + ("; ".join(loops) if loops else "not recorded")
        + "."
    )


def _parity_item(problem: str) -> str:
    first, _, rest = problem.partition("\n")
    if not rest:
        return f"- {first}"
    block = "\n".join(f"  {line}" for line in ["```diff", *rest.splitlines(), "```"])
    return f"- {first}\n\n{block}"


def generated_section(
    results: BenchResults,
    scenarios: Sequence[Scenario],
    checks: Sequence[TargetCheck],
    facts: Sequence[tuple[str, str]],
    config: BenchConfig,
    *,
    wall_seconds: float,
    chart: str | None,
) -> str:
    """Everything between the markers, markers included."""
    minutes, seconds = divmod(round(wall_seconds), 60)
    parts = [
        BEGIN,
        "<!-- Written by `make bench` (python -m bench): every run rewrites this section. -->",
        "",
        "## Last run",
        "",
    ]
    if config.quick:
        parts += [
            f"> **Quick run** ({config.duration} s × {config.runs}): for development only, "
            "not comparable with the issue's protocol (10 s × 3).",
            "",
        ]
    parts += [
        f"{config.duration} s runs × {config.runs} (median) after a {config.warmup} s warm-up, "
        f"{config.connections} connections, one wrk thread; whole run {minutes} min {seconds} s.",
        "",
        results_table(results, scenarios),
        "",
        _fanout_text(results),
        "",
        _startup_text(results),
        "",
        "### Targets",
        "",
        _targets_table(checks),
        "",
        "### Responses compared",
        "",
    ]
    if results.parity:
        parts.append("Where a reference's sample response differs from portal's:")
        parts.append("")
        parts += [_parity_item(problem) for problem in results.parity]
    else:
        parts.append(
            "Before its load, every server was asked one sample request per scenario: each "
            "reference answered with portal's status, media type and body (HTML modulo CSRF "
            "tokens; a vote's count aside)."
        )
    parts.append("")
    if results.notes:
        parts += ["### Notes", ""] + [f"- {note}" for note in results.notes] + [""]
    if chart is not None:
        parts += [f"![portal / reference requests per second]({chart})", ""]
    parts += [
        "### How it was run",
        "",
        f"- Each server runs alone, one process pinned to core {config.server_cpu} "
        f"(`taskset`); wrk and the fan-out client run on core {config.client_cpu}; the "
        "embedded PostgreSQL is not pinned.",
        "- portal runs as in production: `python -m portal run`, debug off, so with no "
        "per-request log line (`access_log` follows debug); the references log nothing "
        "either.",
        "- Requests/s is the median of the measured runs; p50 and p99 are the medians of "
        "each run's percentiles (wrk `--latency`); errors are every response outside "
        "2xx/3xx plus every socket error (connect, read, write, timeout) over all "
        "measured runs.",
        "- Random ids come from fixed-seed Lua scripts, so every server is asked for the "
        "same ids in the same order. Only portal's votes carry a bearer token.",
        "- Worker RSS is `VmRSS` of the serving process after all its wrk runs (for "
        "portal, before the fan-out opens its sockets).",
        _loops(results),
        "",
        _commands(results),
        "",
        "### Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in facts),
        END,
    ]
    return "\n".join(parts)


def replace_generated(document: str | None, section: str) -> str:
    """*document* with its generated section replaced by *section* (appended if absent)."""
    if document is None:
        document = _NEW_DOCUMENT
    start = document.find(BEGIN)
    end = document.find(END, start + len(BEGIN)) if start != -1 else -1
    if start == -1 or end == -1:
        return document.rstrip("\n") + "\n\n" + section + "\n"
    return document[:start] + section + document[end + len(END) :]
