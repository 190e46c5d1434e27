"""The rate limiter: a root middleware for the sections that take bearer tokens.

It sits on the root (inside the error, security-log and timeout middlewares,
after the host, body and CSRF checks) rather than on the API app, as the
other per-section rules do (:mod:`portal.platform.policy`): it applies to
every section whose policy authenticates by bearer token, so an unknown
path under ``/api/`` counts like any other request there.

The limiter authenticates a request's token itself, on the connection it
counts with, and leaves the answer under ``bearer_key``: the endpoint reuses
it instead of looking the token up again.

A busy client is not counted in the database one request at a time: a
process takes a *lease* of several requests at once (one upsert adds them
all) and hands them out locally until they run out or the window ends. The
database's count is the sum of every lease granted, and a lease is never
granted past the limit, so all processes together still allow at most the
limit; a process's unused lease only makes the client's quota end a little
early. Leases shrink as the quota runs down, and under a limit of 20 per
window every request is counted in the database itself.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from dataclasses import dataclass
from typing import Final

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware

from portal.platform.api.endpoints import bearer_secret
from portal.platform.api.problems import problem_response
from portal.platform.auth.current import bearer_key
from portal.platform.auth.throttle import address_key
from portal.platform.auth.tokens import authenticate_bearer, hash_token
from portal.platform.db.engine import db_key
from portal.platform.db.faults import NO_ANSWER, describe
from portal.platform.edge.audit import refusal_reason_key
from portal.platform.policy import policy_for
from portal.platform.ratelimit.queries import Count, count_request, sweep
from portal.settings import Rate, Settings, parse_rate

__all__ = ["Quota", "rate_limit_middleware"]

log = logging.getLogger(__name__)

#: How often (seconds) each process deletes ended windows' counters.
_SWEEP_EVERY: Final = 60.0
#: How often (seconds) a database that does not answer the limiter is logged.
_WARN_EVERY: Final = 60.0
_UNITS: Final = {1: "second", 60: "minute", 3600: "hour"}
#: Refused clients each process remembers at most (a few MB at most).
_MAX_REFUSED: Final = 100_000
#: Clients with a lease each process remembers at most.
_MAX_LEASES: Final = 100_000
#: A lease is at most this share of the limit...
_LEASE_SHARE: Final = 20
#: ...and at most this share of what the process last saw left of it.
_LEASE_OF_LEFT: Final = 8


@dataclass(slots=True)
class _Lease:
    """Requests a process may still allow a client in its current window."""

    #: When the window ends, on the monotonic clock.
    ends: float
    left: int
    #: The client's requests in the window as this process last knew them.
    hits: int


@dataclass(frozen=True, slots=True)
class Quota:
    """One limit and how the draft's headers name it."""

    #: The policy's name in the headers: ``default`` or ``staff``.
    name: str
    rate: Rate

    @property
    def window(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.rate.seconds)

    @property
    def policy(self) -> str:
        """The ``RateLimit-Policy`` value: the quota and the window in seconds."""
        return f'"{self.name}";q={self.rate.requests};w={self.rate.seconds}'

    def headers(self, count: Count) -> dict[str, str]:
        """The draft's headers for a client at *count*: requests left, seconds to reset."""
        remaining = max(0, self.rate.requests - count.hits)
        return {
            "RateLimit-Policy": self.policy,
            "RateLimit": f'"{self.name}";r={remaining};t={count.reset}',
        }

    def refusal(self, request: web.Request, count: Count) -> web.Response:
        """The 429 for a client past this quota."""
        unit = _UNITS[self.rate.seconds]
        response = problem_response(
            request,
            429,
            f"Too many requests: this client may make {self.rate.requests} API requests "
            f"per {unit}. Try again in {count.reset} seconds.",
            headers={**self.headers(count), hdrs.RETRY_AFTER: str(count.reset)},
        )
        response[refusal_reason_key] = f"API rate limit ({self.rate.requests}/{unit}) reached"
        return response


class _Limiter:
    """One process's limiter: the quotas, the clients it refused, when it last swept and warned."""

    def __init__(self, default: Quota, staff: Quota | None) -> None:
        self.default = default
        self.staff = staff
        #: Clients refused in their current window: key -> (when it ends, on the
        #: monotonic clock; their quota). Past its limit a client stays refused
        #: until then whatever it sends, so a flood of refused requests costs
        #: the database nothing.
        self._refused: dict[str, tuple[float, Quota]] = {}
        self._leases: dict[str, _Lease] = {}
        self._next_sweep = 0.0
        self._next_warning = 0.0

    async def count(self, request: web.Request) -> tuple[Quota, Count] | None:
        """Count *request* against its client's quota; None when it is not limited
        (a staff token with ``api_rate_limit_staff: off``) or the database did not answer."""
        secret = bearer_secret(request)
        address = f"address:{address_key(request.remote)}"
        token = None if secret is None else f"token:{hash_token(secret)}"
        if (refused := self._refused_again(token or address)) is not None:
            return refused
        if token is None and (leased := self._from_lease(address)) is not None:
            return self.default, leased
        try:
            async with request.config_dict[db_key].acquire() as conn:
                quota: Quota | None = self.default
                key = address
                if secret is not None and token is not None:
                    bearer = request[bearer_key] = await authenticate_bearer(conn, secret)
                    if bearer is not None:
                        quota = self.staff if bearer.user.is_staff else self.default
                        key = token
                    elif (refused := self._refused_again(address)) is not None:
                        return refused
                if quota is None:
                    return None
                count = self._from_lease(key)
                if count is None:
                    size = self._lease_size(key, quota)
                    count = self._granted(
                        key, quota, await count_request(conn, key, quota.window, size), size
                    )
                if time.monotonic() >= self._next_sweep:
                    self._next_sweep = time.monotonic() + _SWEEP_EVERY
                    await sweep(conn)
        except NO_ANSWER as exc:
            # Served uncounted: a request that needs the database will get its
            # 503 from the handler, and one that does not (the API's index,
            # its OpenAPI document) still works.
            if time.monotonic() >= self._next_warning:
                self._next_warning = time.monotonic() + _WARN_EVERY
                log.warning("API rate limit not counted: %s", describe(exc))
            return None
        if count.hits > quota.rate.requests:
            self._remember_refusal(key, quota, count)
        return quota, count

    def _from_lease(self, key: str) -> Count | None:
        """This request, allowed from *key*'s lease without the database; None if none is left."""
        lease = self._leases.get(key)
        if lease is None or lease.left <= 0:
            return None
        left = lease.ends - time.monotonic()
        if left <= 0:
            del self._leases[key]
            return None
        lease.left -= 1
        lease.hits += 1
        return Count(hits=lease.hits, reset=math.ceil(left))

    def _lease_size(self, key: str, quota: Quota) -> int:
        """How many requests to count at once for *key*: a share of what is left."""
        limit = quota.rate.requests
        lease = self._leases.get(key)
        seen = lease.hits if lease is not None and lease.ends > time.monotonic() else 0
        return max(1, min(limit // _LEASE_SHARE, (limit - seen) // _LEASE_OF_LEFT))

    def _granted(self, key: str, quota: Quota, count: Count, size: int) -> Count:
        """This request's count, from the database's after adding *size*; the rest is leased.

        The requests counted before this lease decide how many of it are
        allowed: none past the limit (the request is then refused).
        """
        before = count.hits - size
        allowed = max(0, min(size, quota.rate.requests - before))
        if allowed == 0:
            self._leases.pop(key, None)
            return count
        now = time.monotonic()
        if len(self._leases) >= _MAX_LEASES:
            self._leases = {k: v for k, v in self._leases.items() if v.ends > now}
        if len(self._leases) < _MAX_LEASES or key in self._leases:
            self._leases[key] = _Lease(ends=now + count.reset, left=allowed - 1, hits=before + 1)
        return Count(hits=before + 1, reset=count.reset)

    def _refused_again(self, key: str) -> tuple[Quota, Count] | None:
        """The refusal of *key*, when it was refused earlier in its current window."""
        entry = self._refused.get(key)
        if entry is None:
            return None
        ends, quota = entry
        left = ends - time.monotonic()
        if left <= 0:
            del self._refused[key]
            return None
        return quota, Count(hits=quota.rate.requests + 1, reset=math.ceil(left))

    def _remember_refusal(self, key: str, quota: Quota, count: Count) -> None:
        now = time.monotonic()
        if len(self._refused) >= _MAX_REFUSED:
            self._refused = {k: v for k, v in self._refused.items() if v[0] > now}
            if len(self._refused) >= _MAX_REFUSED:
                # Still full: this one is counted in the database each time.
                return
        self._refused[key] = (now + count.reset, quota)


def rate_limit_middleware(settings: Settings) -> Middleware | None:
    """The rate-limiting middleware for *settings*; None with ``api_rate_limit: off``."""
    default = parse_rate(settings.api_rate_limit)
    if default is None:
        return None
    staff = parse_rate(settings.api_rate_limit_staff)
    limiter = _Limiter(
        Quota("default", default), Quota("staff", staff) if staff is not None else None
    )

    @web.middleware
    async def rate_limit(request: web.Request, handler: Handler) -> web.StreamResponse:
        if policy_for(request).auth != "bearer":
            return await handler(request)
        counted = await limiter.count(request)
        if counted is None:
            return await handler(request)
        quota, count = counted
        if count.hits > quota.rate.requests:
            return quota.refusal(request, count)
        headers = quota.headers(count)
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            # The error middleware keeps these when it formats the error.
            exc.headers.update(headers)
            raise
        response.headers.update(headers)
        return response

    return rate_limit
