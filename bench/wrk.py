"""Running ``wrk`` and reading its ``--latency`` report.

wrk prints a human report; :func:`parse_wrk_output` turns it into a
:class:`WrkResult` (latencies in milliseconds). Errors are what the issue
counts: responses outside 2xx/3xx plus every socket error wrk reports.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "WrkError",
    "WrkResult",
    "parse_duration_ms",
    "parse_wrk_output",
    "run_wrk",
    "wrk_command",
]

#: Lua scripts that build the requests (random ids, the authenticated vote).
LUA_DIR = Path(__file__).resolve().parent / "lua"


class WrkError(RuntimeError):
    """wrk is missing, failed, or printed a report this parser does not understand."""


@dataclass(frozen=True, slots=True)
class WrkResult:
    """One wrk run, as its ``--latency`` report states it."""

    requests: int
    seconds: float
    requests_per_second: float
    #: Latency percentiles in milliseconds.
    p50_ms: float
    p99_ms: float
    #: Socket errors (connect, read, write, timeout) by kind.
    socket_errors: dict[str, int]
    #: Responses whose status was not 2xx or 3xx.
    non_2xx_3xx: int

    @property
    def errors(self) -> int:
        """Every failed request: bad statuses and socket errors together."""
        return self.non_2xx_3xx + sum(self.socket_errors.values())


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_DURATION = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(us|ms|s|m|h)$")
_PERCENTILE = re.compile(r"^\s*(50|75|90|99)(?:\.0+)?%\s+(\S+)\s*$", re.MULTILINE)
_TOTAL = re.compile(r"^\s*([0-9]+) requests in ([0-9.]+\w+),", re.MULTILINE)
_RATE = re.compile(r"^Requests/sec:\s+([0-9.]+)\s*$", re.MULTILINE)
_SOCKET = re.compile(
    r"^\s*Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+)",
    re.MULTILINE,
)
_NON_2XX = re.compile(r"^\s*Non-2xx or 3xx responses: ([0-9]+)", re.MULTILINE)


def parse_duration_ms(text: str) -> float:
    """A wrk duration such as ``812.00us``, ``4.21ms`` or ``1.02s``, in milliseconds."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise WrkError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk_output(output: str) -> WrkResult:
    """Read wrk's ``--latency`` report; :class:`WrkError` when a required part is missing.

    wrk prints the ``Socket errors`` and ``Non-2xx or 3xx responses`` lines
    only when there are any, so their absence means zero.
    """
    percentiles = {int(p): parse_duration_ms(value) for p, value in _PERCENTILE.findall(output)}
    total = _TOTAL.search(output)
    rate = _RATE.search(output)
    if total is None or rate is None or 50 not in percentiles or 99 not in percentiles:
        raise WrkError(f"unexpected wrk output (was --latency given?):\n{output}")
    socket = _SOCKET.search(output)
    kinds = ("connect", "read", "write", "timeout")
    socket_errors = {
        kind: int(socket.group(i + 1)) if socket else 0 for i, kind in enumerate(kinds)
    }
    non_2xx = _NON_2XX.search(output)
    return WrkResult(
        requests=int(total.group(1)),
        seconds=parse_duration_ms(total.group(2)) / 1000,
        requests_per_second=float(rate.group(1)),
        p50_ms=percentiles[50],
        p99_ms=percentiles[99],
        socket_errors=socket_errors,
        non_2xx_3xx=int(non_2xx.group(1)) if non_2xx else 0,
    )


def wrk_command(
    url: str,
    *,
    duration: int,
    connections: int,
    timeout: int,
    cpu: int,
    script: str | None = None,
    script_args: Sequence[str] = (),
) -> list[str]:
    """The wrk command line, pinned to *cpu* with ``taskset``.

    One wrk thread: the client has one core, and more threads on it would only
    compete with each other.
    """
    command = [
        "taskset", "-c", str(cpu),
        "wrk", "-t1", f"-c{connections}", f"-d{duration}s", f"--timeout={timeout}s", "--latency",
    ]  # fmt: skip
    if script is not None:
        command += ["-s", str(LUA_DIR / script)]
    command.append(url)
    if script_args:
        command += ["--", *script_args]
    return command


def run_wrk(command: Sequence[str], *, limit: float) -> WrkResult:
    """Run *command* (from :func:`wrk_command`) and parse its report."""
    if shutil.which("wrk") is None:
        raise WrkError("wrk is not installed: apt-get install -y wrk (make bench does it)")
    try:
        done = subprocess.run(
            list(command), capture_output=True, text=True, timeout=limit, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise WrkError(f"wrk did not finish within {limit:.0f} s") from exc
    if done.returncode != 0:
        raise WrkError(f"wrk exited with {done.returncode}:\n{done.stdout}{done.stderr}")
    return parse_wrk_output(done.stdout)
