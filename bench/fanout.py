"""The WebSocket fan-out: many live result pages open, one vote, how long until all see it.

:func:`run_fanout` starts this module as its own process pinned to the client
core (``python -m bench.fanout``), which opens the sockets to portal's
``/polls/{id}/live``, waits for each one's snapshot, then casts each vote
through the API and times it until every socket has received the new count.
It prints its :class:`~bench.results.FanoutResult` as JSON on its last line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict

import aiohttp

from bench.config import ROOT
from bench.results import FanoutResult
from bench.servers import pinned

__all__ = ["fanout_command", "main", "parse_fanout_output", "raise_open_files_limit", "run_fanout"]

_VOTE_TIMEOUT_SECONDS = 10.0
_CONNECT_CONCURRENCY = 50
_PAUSE_BETWEEN_VOTES = 0.5


def raise_open_files_limit(wanted: int = 65_536) -> int:
    """Raise this process's soft limit on open files towards *wanted*; the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


class _Arrivals:
    """When each socket first saw each vote count of the watched choice."""

    def __init__(self) -> None:
        self._times: dict[int, list[float]] = defaultdict(list)
        self._complete: dict[int, asyncio.Event] = defaultdict(asyncio.Event)
        self.expected = 0

    def record(self, votes: int, at: float) -> None:
        times = self._times[votes]
        times.append(at)
        if len(times) >= self.expected:
            self._complete[votes].set()

    async def wait_all(self, votes: int, within: float) -> list[float]:
        if len(self._times[votes]) < self.expected:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(within):
                    await self._complete[votes].wait()
        return list(self._times[votes])


async def _read(ws: aiohttp.ClientWebSocketResponse, choice_id: int, arrivals: _Arrivals) -> None:
    async for message in ws:
        if message.type is not aiohttp.WSMsgType.TEXT:
            continue
        data = json.loads(message.data)
        if data.get("type") == "votes" and data.get("choice_id") == choice_id:
            arrivals.record(int(data["votes"]), time.perf_counter())


async def _open(
    http: aiohttp.ClientSession, url: str, gate: asyncio.Semaphore
) -> aiohttp.ClientWebSocketResponse | None:
    async with gate:
        try:
            ws = await http.ws_connect(url)
            first = await ws.receive(timeout=30)
        except (aiohttp.ClientError, TimeoutError):
            return None
    if first.type is not aiohttp.WSMsgType.TEXT:
        await ws.close()
        return None
    return ws


async def _fanout(
    base: str, question_id: int, choice_id: int, token: str, sockets: int, votes: int
) -> FanoutResult:
    live = f"{base}/polls/{question_id}/live"
    vote_url = f"{base}/api/questions/{question_id}/choices/{choice_id}/vote"
    arrivals = _Arrivals()
    failures = 0
    missed = 0
    timings: list[float] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        gate = asyncio.Semaphore(_CONNECT_CONCURRENCY)
        started = time.perf_counter()
        opened = await asyncio.gather(*(_open(http, live, gate) for _ in range(sockets)))
        connect_seconds = time.perf_counter() - started
        open_sockets = [ws for ws in opened if ws is not None]
        failures += sockets - len(open_sockets)
        arrivals.expected = len(open_sockets)
        readers = [asyncio.create_task(_read(ws, choice_id, arrivals)) for ws in open_sockets]
        try:
            for _ in range(votes):
                await asyncio.sleep(_PAUSE_BETWEEN_VOTES)
                sent = time.perf_counter()
                async with http.post(
                    vote_url, headers={"Authorization": f"Bearer {token}"}
                ) as response:
                    if response.status != 200:
                        failures += 1
                        continue
                    count = int((await response.json())["votes"])
                times = await arrivals.wait_all(count, _VOTE_TIMEOUT_SECONDS)
                missed += len(open_sockets) - len(times)
                if times:
                    timings.append((max(times) - sent) * 1000)
        finally:
            for reader in readers:
                reader.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
            await asyncio.gather(*(ws.close() for ws in open_sockets), return_exceptions=True)
    return FanoutResult(
        sockets=sockets,
        connected=len(open_sockets),
        connect_seconds=connect_seconds,
        all_received_ms=tuple(timings),
        missed=missed,
        failures=failures,
    )


def fanout_command(
    cpu: int, url: str, *, question_id: int, choice_id: int, sockets: int, votes: int
) -> list[str]:
    """The client's command line, pinned to *cpu* (the token goes in ``BENCH_TOKEN``)."""
    return pinned(
        cpu,
        [
            sys.executable, "-m", "bench.fanout", "--url", url,
            "--question", str(question_id), "--choice", str(choice_id),
            "--sockets", str(sockets), "--votes", str(votes),
        ],
    )  # fmt: skip


def parse_fanout_output(output: str) -> FanoutResult:
    """The result the client printed as JSON on its last line."""
    lines = output.strip().splitlines()
    if not lines:
        raise ValueError("the fan-out client printed nothing")
    data = json.loads(lines[-1])
    data["all_received_ms"] = tuple(data["all_received_ms"])
    return FanoutResult(**data)


def run_fanout(command: Sequence[str], token: str, *, limit: float) -> FanoutResult:
    """Run the client of *command* (from :func:`fanout_command`) and read its result."""
    done = subprocess.run(
        list(command),
        cwd=ROOT,
        env={**os.environ, "BENCH_TOKEN": token},
        capture_output=True,
        text=True,
        timeout=limit,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the fan-out client failed:\n{done.stdout}{done.stderr}")
    return parse_fanout_output(done.stdout)


def main(argv: Sequence[str] | None = None) -> None:
    """The client process: open the sockets, time the votes, print the result."""
    parser = argparse.ArgumentParser(prog="python -m bench.fanout")
    parser.add_argument("--url", required=True)
    parser.add_argument("--question", type=int, required=True)
    parser.add_argument("--choice", type=int, required=True)
    parser.add_argument("--sockets", type=int, default=500)
    parser.add_argument("--votes", type=int, default=5)
    args = parser.parse_args(argv)
    # Each socket is a file descriptor; the default soft limit is often 1024.
    raise_open_files_limit(args.sockets + 256)
    result = asyncio.run(
        _fanout(
            args.url,
            args.question,
            args.choice,
            os.environ["BENCH_TOKEN"],
            args.sockets,
            args.votes,
        )
    )
    print(json.dumps(asdict(result)))


if __name__ == "__main__":
    main()
