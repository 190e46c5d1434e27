"""CSRF protection: a token tied to the session, checked on every unsafe request.

The token is created lazily, the first time a page puts it in a form, and
stays valid for the whole session (a second tab or a resubmitted form works);
it changes when the session rotates at login and logout.

Before the token, where the request came from is checked, as browsers report
it: ``Sec-Fetch-Site`` must say the same origin (or ``none``: typed by the
user), and an ``Origin`` header must be this site's own. A request from
another site is refused even when it somehow carries a valid token.
"""

from __future__ import annotations

import hmac
import secrets

from aiohttp import web
from aiohttp.typedefs import Handler
from aiohttp_session import Session, get_session

from portal.platform.edge.formdata import read_form
from portal.platform.edge.proxy import is_https
from portal.platform.policy import policy_for

__all__ = ["CSRF_FIELD", "CSRF_HEADER", "csrf_middleware", "session_csrf_token"]

#: The hidden form field every form carries.
CSRF_FIELD = "csrf_token"
#: The header a script may send the token in instead.
CSRF_HEADER = "X-CSRF-Token"
_SESSION_KEY = "_csrf"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
#: Sec-Fetch-Site values of a request the site's own pages (or the user) made.
_OWN_SITE = frozenset({"same-origin", "none"})


def session_csrf_token(session: Session) -> str:
    """The session's CSRF token, created on first use."""
    token = session.get(_SESSION_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[_SESSION_KEY] = token
    return token


async def _supplied_token(request: web.Request) -> str | None:
    # A form body is read even when the header brings the token, as Django
    # does: one that cannot be read is refused (400) here, for every form
    # route alike, whether or not its view would have read it.
    form = await read_form(request) if request.content_type in _FORM_TYPES else None
    header = request.headers.get(CSRF_HEADER)
    if header is not None:
        return header
    if form is not None:
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def _foreign_origin(request: web.Request) -> str | None:
    """Why the browser says this request came from another site; None if it does not."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site.lower() not in _OWN_SITE:
        return f"it was sent from another site (Sec-Fetch-Site: {fetch_site})"
    origin = request.headers.get("Origin")
    if origin is not None:
        own = f"{'https' if is_https(request) else 'http'}://{request.host}"
        if origin.lower() != own.lower():
            return "it was sent from another origin"
    return None


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse (403) an unsafe request to a CSRF-protected section from another
    site, or without the session's token."""
    if request.method in _SAFE_METHODS or not policy_for(request).csrf:
        return await handler(request)
    foreign = _foreign_origin(request)
    if foreign is not None:
        raise web.HTTPForbidden(
            reason="CSRF check failed",
            text=f"The form was refused because {foreign}. Use the form on this site.",
        )
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
