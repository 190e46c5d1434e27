"""Security events: one WARNING line on ``portal.security`` for every refused request.

A refusal is a 401 (no or a bad API token), a 403 (a failed CSRF check, not
staff, an inactive account) or a 429 (throttled), whether the refusing code
raised it or returned it (the API answers with problem documents). The line
says who (the user or ``anonymous``, and the client address: behind a trusted
proxy the real one, see :mod:`portal.platform.edge.proxy`), what (the method and
the path, never the query string) and why. No header, cookie, token, password
or form value is ever written: the reason is the text the refusing code wrote
for the client, or what the ``WWW-Authenticate`` challenge says.
"""

from __future__ import annotations

import asyncio
import json
import logging
from http import HTTPStatus
from typing import Final

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from portal.platform.api.problems import PROBLEM_TYPE
from portal.platform.auth.current import current_user, user_key
from portal.platform.db.faults import NO_ANSWER
from portal.platform.policy import policy_for

__all__ = ["REFUSALS", "refusal_reason_key", "security_log", "security_log_middleware"]

security_log = logging.getLogger("portal.security")

#: The statuses that refuse a client: the request was understood and not allowed.
REFUSALS: Final = frozenset({401, 403, 429})
#: What an RFC 6750 ``error=`` in a ``WWW-Authenticate: Bearer`` challenge means.
_BEARER_ERRORS: Final = {
    "invalid_token": "bad token",
    "invalid_request": "malformed Authorization header",
    "insufficient_scope": "token lacks the scope",
}
#: Why a returned refusal refused, in the words of the code that refused it,
#: when it knows more than its status says (the login throttle names its limit).
refusal_reason_key = web.ResponseKey("refusal_reason_key", str)
#: A reason is the refusing code's own message; a long one is cut here.
_MAX_REASON: Final = 200
#: How long the log waits to learn who is logged in (the error page reuses the answer).
_USER_SECONDS: Final = 1.0


@web.middleware
async def security_log_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Log each refused request once on ``portal.security`` (see the module docstring).

    It sits just inside the error middleware, where a refusal is still the
    exception that was raised and its reason can be read.
    """
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status in REFUSALS:
            await _log_refusal(request, exc.status, _raised_reason(exc))
        raise
    if response.status in REFUSALS:
        await _log_refusal(request, response.status, _answered_reason(response))
    return response


async def _log_refusal(request: web.Request, status: int, reason: str) -> None:
    security_log.warning(
        "refused %d %s %s: %s (user=%s, client=%s)",
        status,
        request.method,
        # Still percent-encoded: a decoded path could carry a line break into the log.
        request.rel_url.raw_path,
        _printable(reason),
        await _who(request),
        request.remote or "-",
    )


async def _who(request: web.Request) -> str:
    """The refused user's name, ``anonymous``, or ``unknown`` when the database did not say."""
    if user_key not in request and policy_for(request).auth == "session":
        # A CSRF refusal comes before any view looked the user up. The error
        # page needs to know too, and will use this answer.
        try:
            async with asyncio.timeout(_USER_SECONDS):
                await current_user(request)
        except NO_ANSWER:
            return "unknown"
    user = request.get(user_key)
    return "anonymous" if user is None else repr(user.username)


def _raised_reason(exc: web.HTTPException) -> str:
    """What a raised refusal says: its own reason phrase, else its message."""
    if exc.reason != HTTPStatus(exc.status).phrase:
        return exc.reason
    text = exc.text or ""
    if text and text != f"{exc.status}: {exc.reason}":
        return text
    return _generic_reason(exc.status)


def _answered_reason(response: web.StreamResponse) -> str:
    """What a returned refusal says: its own reason, the bearer challenge's error, else
    its problem detail."""
    if refusal_reason_key in response:
        return response[refusal_reason_key]
    if response.status == 401:
        challenge = response.headers.get(hdrs.WWW_AUTHENTICATE, "")
        for error, reason in _BEARER_ERRORS.items():
            if f'error="{error}"' in challenge:
                return reason
        if challenge.lower().startswith("bearer"):
            return "missing token"
    if response.status == 429:
        return "throttled"
    body = response.body if isinstance(response, web.Response) else None
    if isinstance(body, bytes) and response.content_type == PROBLEM_TYPE:
        try:
            problem = json.loads(body)
        except ValueError:
            problem = None
        detail = problem.get("detail") if isinstance(problem, dict) else None
        if isinstance(detail, str) and detail:
            return detail
    return _generic_reason(response.status)


def _generic_reason(status: int) -> str:
    return {401: "not authenticated", 403: "forbidden", 429: "throttled"}.get(
        status, HTTPStatus(status).phrase
    )


def _printable(text: str) -> str:
    """*text* on one line, control characters replaced, cut to a bounded length."""
    cleaned = "".join(char if char.isprintable() else "?" for char in text)
    return cleaned if len(cleaned) <= _MAX_REASON else cleaned[: _MAX_REASON - 1] + "…"
