"""Mixed load from the test process: page and API reads, votes and todo writes.

Each client sends one request after the other until the time is up, and every
request becomes an :class:`Outcome`: when it started and ended (on the
suite's monotonic clock, the one faults are timed with), and its status or,
when no answer came, the error.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import aiohttp

__all__ = ["KINDS", "READS", "MixedLoad", "Outcome", "session", "timed"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """One request: its kind, its times and its status, or the error instead."""

    kind: str
    started: float
    ended: float
    status: int | None
    error: str | None = None
    #: Whether the status is the one this kind of request answers when all is well.
    ok: bool = False

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    @property
    def label(self) -> str:
        """The status, or the error's name: what the figures count."""
        return str(self.status) if self.status is not None else str(self.error)


async def timed(
    kind: str, expected: int, send: Callable[[], Awaitable[int]], limit: float
) -> Outcome:
    """Run *send* (which returns a status) for at most *limit* seconds, as an :class:`Outcome`."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(limit):
            status = await send()
    except TimeoutError:
        return Outcome(kind, started, time.monotonic(), None, "timeout")
    except aiohttp.ClientError as exc:
        return Outcome(kind, started, time.monotonic(), None, type(exc).__name__)
    return Outcome(kind, started, time.monotonic(), status, ok=status == expected)


def session(token: str, *, limit: int, keep_alive: bool = True) -> aiohttp.ClientSession:
    """A client session sending *token*, with at most *limit* connections.

    Without *keep_alive* every request has a connection of its own, so a
    server process's open connections are exactly its requests in flight.
    """
    http = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=limit, force_close=not keep_alive),
        headers={"Authorization": f"Bearer {token}"},
        # Pages set session cookies; nobody here needs them back.
        cookie_jar=aiohttp.DummyCookieJar(),
    )
    # aiohttp resends a GET once when its connection drops, which would hide
    # exactly the failures counted here; its own test client turns it off the same way.
    http._retry_connection = False
    return http


#: Request kinds and their share of the mix: reads of pages and of the API
#: (the bulk, as on a real site), votes, and todo writes.
KINDS: dict[str, float] = {
    "polls page": 15,
    "question page": 10,
    "todos page": 10,
    "api questions": 15,
    "api question": 10,
    "api todos": 10,
    "vote": 20,
    "todo create": 5,
    "todo update": 5,
}
#: The reads among them, each a GET answered 200 (``{q}``: the load's question).
READS: dict[str, str] = {
    "polls page": "/polls/",
    "question page": "/polls/{q}/",
    "todos page": "/todos/",
    "api questions": "/api/questions/?limit=5",
    "api question": "/api/questions/{q}",
    "api todos": "/api/todos/?limit=5",
}


@dataclass
class MixedLoad:
    """Mixed load on one site, voting on one choice; todos are named after *label*."""

    base: str
    question_id: int
    choice_id: int
    label: str
    seed: int = 1
    _todo_ids: list[int] = field(default_factory=list, init=False)
    _created: int = field(default=0, init=False)

    async def run(
        self, http: aiohttp.ClientSession, *, seconds: float, clients: int, limit: float
    ) -> list[Outcome]:
        """*clients* clients, each sending requests until *seconds* have passed.

        A request gets no answer if none came within *limit* seconds.
        """
        deadline = time.monotonic() + seconds
        outcomes: list[Outcome] = []

        async def client(number: int) -> None:
            # Seeded: the same mix on every run (no secret is drawn here).
            rng = random.Random(self.seed * 1000 + number)  # noqa: S311
            kinds, weights = list(KINDS), list(KINDS.values())
            while time.monotonic() < deadline:
                kind = rng.choices(kinds, weights)[0]
                outcomes.append(await self._request(http, kind, rng, limit))

        await asyncio.gather(*(client(n) for n in range(clients)))
        return outcomes

    async def _request(
        self, http: aiohttp.ClientSession, kind: str, rng: random.Random, limit: float
    ) -> Outcome:
        if kind in READS:
            url = self.base + READS[kind].format(q=self.question_id)

            async def get() -> int:
                async with http.get(url) as response:
                    await response.read()
                    return response.status

            return await timed(kind, 200, get, limit)
        if kind == "vote":
            return await timed(kind, 200, lambda: self._post(http, self.vote_path), limit)
        if kind == "todo update" and self._todo_ids:
            todo_id = rng.choice(self._todo_ids)
            body = {"finished": rng.random() < 0.5}
            return await timed(
                kind, 204, lambda: self._send(http, "PATCH", f"/api/todos/{todo_id}", body), limit
            )
        return await timed("todo create", 201, lambda: self._create_todo(http), limit)

    @property
    def vote_path(self) -> str:
        """The API's vote on the load's choice."""
        return f"/api/questions/{self.question_id}/choices/{self.choice_id}/vote"

    async def _post(self, http: aiohttp.ClientSession, path: str) -> int:
        async with http.post(self.base + path) as response:
            await response.read()
            return response.status

    async def _send(
        self, http: aiohttp.ClientSession, method: str, path: str, body: Mapping[str, object]
    ) -> int:
        async with http.request(method, self.base + path, json=body) as response:
            await response.read()
            return response.status

    async def _create_todo(self, http: aiohttp.ClientSession) -> int:
        self._created += 1
        body = {"name": f"{self.label} todo {self._created}"}
        async with http.post(self.base + "/api/todos/", json=body) as response:
            if response.status == 201:
                self._todo_ids.append(int((await response.json())["id"]))
            else:
                await response.read()
            return response.status
