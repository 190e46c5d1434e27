"""CSRF protection: a token tied to the session, checked on every unsafe request.

The token is created lazily, the first time a page puts it in a form, and
stays valid for the whole session (a second tab or a resubmitted form works);
it changes when the session rotates at login and logout.
"""

from __future__ import annotations

import hmac
import secrets

from aiohttp import web
from aiohttp.typedefs import Handler
from aiohttp_session import Session, get_session

from portal.platform.policy import policy_for

__all__ = ["CSRF_FIELD", "CSRF_HEADER", "csrf_middleware", "session_csrf_token"]

#: The hidden form field every form carries.
CSRF_FIELD = "csrf_token"
#: The header a script may send the token in instead.
CSRF_HEADER = "X-CSRF-Token"
_SESSION_KEY = "_csrf"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def session_csrf_token(session: Session) -> str:
    """The session's CSRF token, created on first use."""
    token = session.get(_SESSION_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[_SESSION_KEY] = token
    return token


async def _supplied_token(request: web.Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header is not None:
        return header
    if request.content_type in _FORM_TYPES:
        value = (await request.post()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse (403) an unsafe request to a CSRF-protected section without the token."""
    if request.method in _SAFE_METHODS or not policy_for(request).csrf:
        return await handler(request)
    session = await get_session(request)
    expected = session.get(_SESSION_KEY)
    supplied = await _supplied_token(request)
    if (
        not isinstance(expected, str)
        or supplied is None
        or not hmac.compare_digest(expected.encode(), supplied.encode())
    ):
        raise web.HTTPForbidden(
            reason="CSRF check failed",
            text="The form was missing its security token or it did not match your "
            "session. Reload the page and try again.",
        )
    return await handler(request)
