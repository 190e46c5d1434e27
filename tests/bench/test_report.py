"""The generated section of docs/benchmarks.md, and the hand-written text around it."""

from __future__ import annotations

from bench.chart import ratio_bars
from bench.config import ROOT, BenchConfig
from bench.report import (
    BEGIN,
    END,
    generated_section,
    replace_generated,
    results_table,
    shown_command,
)
from bench.results import BenchResults
from bench.scenarios import SCENARIOS
from bench.targets import check_targets
from bench.wrk import WrkResult
from tests.bench.helpers import measured, results_with, run


def sample_results() -> BenchResults:
    return results_with(
        measured("todo", "portal", run(1500, 30, 60)),
        measured("todo", "fastapi", run(3000, 15, 25)),
        measured("todo", "aiohttp", run(1400, 31, 61)),
        measured("health", "portal", run(5000)),
        measured("health", "aiohttp", run(6000)),
    )


def test_a_new_document_gets_a_findings_section_and_the_markers() -> None:
    document = replace_generated(None, f"{BEGIN}\ngenerated\n{END}")

    assert document.startswith("# Benchmarks")
    assert "## Findings" in document
    assert f"{BEGIN}\ngenerated\n{END}" in document


def test_only_the_text_between_the_markers_is_replaced() -> None:
    before = "# Benchmarks\n\nProfiles showed X.\n\n"
    after = "\n\nMore notes by hand.\n"
    document = f"{before}{BEGIN}\nold numbers\n{END}{after}"

    updated = replace_generated(document, f"{BEGIN}\nnew numbers\n{END}")

    assert updated == f"{before}{BEGIN}\nnew numbers\n{END}{after}"


def test_a_document_without_markers_gets_the_section_appended() -> None:
    updated = replace_generated("# Notes\n", f"{BEGIN}\nx\n{END}")

    assert updated == f"# Notes\n\n{BEGIN}\nx\n{END}\n"


def test_the_table_has_portal_first_then_each_reference_with_its_ratio() -> None:
    table = results_table(sample_results(), SCENARIOS)
    lines = table.splitlines()

    assert lines[0].startswith("| Scenario | Server | Requests/s | p50 (ms) | p99 (ms) | Errors")
    assert lines[2].startswith(
        "| API read one todo | **portal** | 1,500 | 30.00 | 60.00 | 0 | 64.0"
    )
    assert lines[3].endswith("| 0.50 (target ≥ 1) |")
    assert "1.07 (target ≥ 2)" in lines[4]
    assert lines[5].startswith("| no-database JSON (root route) | **portal** | 5,000")
    assert "0.83 (target ≥ 0.85)" in lines[6]
    assert len(lines) == 7


def test_the_section_is_delimited_and_lists_targets_commands_and_facts() -> None:
    results = sample_results()
    section = generated_section(
        results,
        SCENARIOS,
        check_targets(results),
        [("CPU", "AMD EPYC"), ("Python", "3.11.2")],
        BenchConfig(duration=2, runs=1),
        wall_seconds=75,
        chart="benchmarks.png",
    )

    assert section.startswith(BEGIN)
    assert section.endswith(END)
    assert "Quick run" in section
    assert "1 min 15 s" in section
    assert "| API one-row read ≥ 1.0 × FastAPI + asyncpg | 0.50 × | ❌ not met |" in section
    assert "| CPU | AMD EPYC |" in section
    assert "![portal / reference requests per second](benchmarks.png)" in section


def test_ratio_bars_carry_their_targets() -> None:
    bars = ratio_bars(sample_results(), SCENARIOS)

    assert [(round(ratio, 2), target) for _, ratio, target in bars] == [
        (0.5, 1.0),
        (1.07, 2.0),
        (0.83, 0.85),
    ]


def test_commands_are_shown_from_the_repository_root_with_the_port_left_open() -> None:
    command = [
        "taskset", "-c", "0", f"{ROOT}/.venv/bin/python", "-m", "portal", "run",
        "--host", "127.0.0.1", "--port", "40673",
    ]  # fmt: skip
    wrk = ["taskset", "-c", "1", "wrk", "-t1", "http://127.0.0.1:48011/api/todos/?limit=20"]

    assert shown_command(command) == (
        "taskset -c 0 .venv/bin/python -m portal run --host 127.0.0.1 --port $PORT"
    )
    assert shown_command(wrk) == "taskset -c 1 wrk -t1 'http://127.0.0.1:$PORT/api/todos/?limit=20'"


def test_errors_are_broken_down_by_kind() -> None:
    failing = WrkResult(
        requests=100,
        seconds=10.0,
        requests_per_second=10.0,
        p50_ms=1.0,
        p99_ms=2.0,
        socket_errors={"connect": 0, "read": 1, "write": 0, "timeout": 25},
        non_2xx_3xx=2,
    )
    results = results_with(measured("todo", "portal", failing, failing))

    row = results_table(results, SCENARIOS).splitlines()[2]

    assert "| 56 (non-2xx/3xx 4, read 2, timeout 50) |" in row
