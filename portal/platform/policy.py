"""Per-section rules, declared once per sub-app as data.

A sub-app states which policy governs it (``app[policy_key] = HTML_SITE``);
the platform's root middlewares look the policy up for each request and apply
it. The rules live on the root rather than as middlewares on each sub-app so
that a refusal raised before the sub-app is reached (a bad CSRF token, an
unknown path under a prefix) is still answered in that section's format.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from aiohttp import web

__all__ = ["HTML_SITE", "JSON_API", "Policy", "policy_for", "policy_key"]

#: The rules (session, CSRF, error format, authentication) of one app's section.
policy_key: web.AppKey[Policy] = web.AppKey("policy_key")


@dataclass(frozen=True, slots=True)
class Policy:
    """How a section of the site treats its requests."""

    #: ``html``: error pages in the shared layout; ``problem``: RFC 9457 JSON.
    errors: Literal["html", "problem"]
    #: Unsafe methods must carry the session's CSRF token.
    csrf: bool
    #: Who the caller is: the cookie session, or an ``Authorization: Bearer`` token.
    auth: Literal["session", "bearer"]
    #: Which limit request bodies are held to: ``form_body_limit`` or ``api_body_limit``.
    body: Literal["form", "json"]


#: Pages for people: cookie session, CSRF on every form, HTML error pages.
HTML_SITE = Policy(errors="html", csrf=True, auth="session", body="form")

#: JSON for programs: bearer tokens, problem+json errors, no cookie CSRF.
JSON_API = Policy(errors="problem", csrf=False, auth="bearer", body="json")


def policy_for(request: web.Request) -> Policy:
    """The policy of the innermost app this request was routed to.

    Unknown paths under a sub-app's prefix are routed to that sub-app too, so
    its 404 comes in its own format.
    """
    for app in reversed(request.match_info.apps):
        if policy_key in app:
            return app[policy_key]
    return HTML_SITE
