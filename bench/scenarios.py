"""The scenarios: what wrk asks portal, and which reference servers answer the same.

Each reference server serves the same paths as portal, so one wrk command
line (a fixed-seed Lua script for the random ids) drives them all.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.data import CHOICES_EACH, QUESTIONS, TODOS

__all__ = [
    "FANOUT",
    "FILTERED_QUESTIONS",
    "FILTERED_TODOS",
    "SCENARIOS",
    "Scenario",
    "WrkRequest",
    "select_scenarios",
]


@dataclass(frozen=True, slots=True)
class WrkRequest:
    """What wrk is told: a path, or a Lua script and its arguments."""

    path: str = "/"
    script: str | None = None
    args: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Scenario:
    """One row group of the table: portal against each of its references."""

    key: str
    title: str
    #: ``(server key, label)`` of each reference, as the table names it.
    references: tuple[tuple[str, str], ...]
    #: One request for the response comparison (the wrk run asks many like it).
    sample_path: str
    method: str = "GET"
    #: The wrk request, for every server; a vote adds portal's token.
    request: WrkRequest = WrkRequest()
    #: Whether the request needs portal's API token.
    authenticated: bool = False
    #: The API reads, whose p99 has a target.
    api_read: bool = False

    def servers(self) -> tuple[str, ...]:
        """portal, then the references' server keys."""
        return ("portal", *(key for key, _ in self.references))

    def wrk_request(self, server: str, token: str) -> WrkRequest:
        """The request for *server*: only portal gets the bearer token."""
        if not self.authenticated:
            return self.request
        secret = token if server == "portal" else ""
        return WrkRequest(self.request.path, self.request.script, (*self.request.args, secret))


#: Unfinished todos whose name contains "number 4242" (ignoring case): 7 of 100,000.
FILTERED_TODOS = "/api/todos/?finished=false&name_contains=NUMBER%204242&limit=20"
#: The first page of the 43,200 questions published in November 2025, newest first.
FILTERED_QUESTIONS = (
    "/api/questions/?pub_date_after=2025-11-01T00:00:00Z&pub_date_before=2025-12-01T00:00:00Z"
    "&ordering=-pub_date&limit=20"
)

_NAIVE = ("aiohttp", "aiohttp + naive aiopg.sa")
_FASTAPI = ("fastapi", "FastAPI + asyncpg")

SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        key="todo",
        title="API read one todo",
        references=(_FASTAPI, _NAIVE),
        sample_path="/api/todos/1",
        request=WrkRequest(script="random_id.lua", args=("/api/todos/%d", str(TODOS))),
        api_read=True,
    ),
    Scenario(
        key="question",
        title="API read question + choices",
        references=(_FASTAPI, _NAIVE),
        sample_path="/api/questions/1",
        request=WrkRequest(script="random_id.lua", args=("/api/questions/%d", str(QUESTIONS))),
        api_read=True,
    ),
    Scenario(
        key="list",
        title="API list page of 20",
        references=(_FASTAPI, _NAIVE),
        sample_path="/api/todos/?limit=20",
        request=WrkRequest(path="/api/todos/?limit=20"),
        api_read=True,
    ),
    # Filters over 100,000 rows, each served by its index (todos_0003,
    # polls_0003). portal only: the references serve no filters.
    Scenario(
        key="filter_todos",
        title="API filtered todos (finished + name contains)",
        references=(),
        sample_path=FILTERED_TODOS,
        request=WrkRequest(path=FILTERED_TODOS),
        api_read=True,
    ),
    Scenario(
        key="filter_questions",
        title="API questions in a month, newest first",
        references=(),
        sample_path=FILTERED_QUESTIONS,
        request=WrkRequest(path=FILTERED_QUESTIONS),
        api_read=True,
    ),
    Scenario(
        # portal (rate limit off, as in every other row) against itself with it on.
        key="limited",
        title="API list page of 20, rate limit off vs on",
        references=(("portal-limited", "portal, rate limit on"),),
        sample_path="/api/todos/?limit=20",
        request=WrkRequest(path="/api/todos/?limit=20"),
    ),
    Scenario(
        # A caching client's revalidations: each GET sends the ETag it last
        # got, and the page has not changed, so the answer is 304 with no body.
        # Against the "list" row, it shows what tagging every read costs and
        # what a client that sends If-None-Match saves.
        key="revalidate",
        title="API list page of 20, revalidated (304)",
        references=(),
        sample_path="/api/todos/?limit=20",
        request=WrkRequest(script="revalidate.lua", args=("/api/todos/?limit=20",)),
    ),
    Scenario(
        key="vote",
        title="API vote (token auth)",
        references=(_FASTAPI, _NAIVE),
        sample_path="/api/questions/1/choices/1/vote",
        method="POST",
        request=WrkRequest(script="vote.lua", args=(str(QUESTIONS), str(CHOICES_EACH))),
        authenticated=True,
    ),
    Scenario(
        key="index",
        title="polls index page",
        references=(("aiohttp", "bare aiohttp-jinja2"),),
        sample_path="/polls/",
        request=WrkRequest(path="/polls/"),
    ),
    Scenario(
        key="static",
        title="static file",
        references=(("aiohttp", "bare aiohttp static"),),
        sample_path="/polls/static/polls.css",
        request=WrkRequest(path="/polls/static/polls.css"),
    ),
    Scenario(
        key="health",
        title="no-database JSON (root route)",
        references=(("aiohttp", "bare aiohttp"),),
        sample_path="/healthz",
        request=WrkRequest(path="/healthz"),
    ),
    Scenario(
        key="json",
        title="no-database JSON (API index)",
        references=(("aiohttp", "bare aiohttp"),),
        sample_path="/api/",
        request=WrkRequest(path="/api/"),
    ),
)

#: The WebSocket fan-out's key (it has no reference).
FANOUT = "fanout"


def select_scenarios(keys: tuple[str, ...]) -> tuple[tuple[Scenario, ...], bool]:
    """The scenarios named by *keys* (all when empty), and whether the fan-out is in."""
    known = {s.key for s in SCENARIOS} | {FANOUT}
    unknown = sorted(set(keys) - known)
    if unknown:
        raise ValueError(f"unknown scenario(s) {unknown}; known: {sorted(known)}")
    if not keys:
        return SCENARIOS, True
    return tuple(s for s in SCENARIOS if s.key in keys), FANOUT in keys
