"""RFC 9457 problem documents, the one error shape under ``/api/``, and their kinds.

Each kind of problem a client can act on has a stable ``type`` URI under the
API, ``<api prefix>problems/<slug>`` (``/api/problems/not-found``), which the
api app answers with a description of the kind (JSON, or a page for a
browser). A status no kind covers (a 416 raised by aiohttp, say) keeps
``about:blank``, which RFC 9457 defines as "nothing more than the status
code says": its ``title`` is then the status phrase.

The ``type`` is an absolute path, not a full URL. RFC 9457 recommends
absolute URIs, and relative references that carry the full path when one is
used (section 3.1.1): resolved against the response's URL, the path names the
same description. A full URL would have to be built from the ``Host`` the
client sent and the scheme a trusted proxy reports, so one kind would have as
many ``type`` values as the site has names (``localhost``, its public name,
http and https); a client compares ``type`` to a constant, and the path stays
one string per kind for a given prefix, whichever way the site was reached.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus

from aiohttp import web
from pydantic import BaseModel, Field

from portal.platform.appspec import mounts_key

__all__ = [
    "BLANK",
    "CONFLICT",
    "FORBIDDEN",
    "INSUFFICIENT_SCOPE",
    "MALFORMED",
    "METHOD_NOT_ALLOWED",
    "NOT_FOUND",
    "PAYLOAD_TOO_LARGE",
    "PRECONDITION_FAILED",
    "PROBLEMS_ROUTE",
    "PROBLEM_KINDS",
    "PROBLEM_TYPE",
    "RATE_LIMITED",
    "SERVER_ERROR",
    "TIMEOUT",
    "UNAUTHORIZED",
    "UNAVAILABLE",
    "UNSUPPORTED_MEDIA_TYPE",
    "VALIDATION",
    "FieldError",
    "Problem",
    "ProblemKind",
    "default_kind",
    "problem_kind_named",
    "problem_response",
    "problem_types_path",
]

#: The media type of every error the API sends.
PROBLEM_TYPE = "application/problem+json"

#: RFC 9457's type for a problem that means no more than its status.
BLANK = "about:blank"

_API_APP = "api"
#: The route listing the kinds, ``<api prefix>problems/``; each kind's URI is
#: that path followed by its slug. The api app serves it; without that app
#: installed there is nothing to point at, and every ``type`` is ``about:blank``.
PROBLEMS_ROUTE = f"{_API_APP}:problems"


@dataclass(frozen=True, slots=True)
class ProblemKind:
    """One kind of problem: its ``type`` URI's last segment, its status and what it means."""

    slug: str
    status: int
    #: The same for every occurrence of the kind (RFC 9457 section 3.1.3).
    title: str
    #: What happened, and what the client can do about it.
    description: str


MALFORMED = ProblemKind(
    "malformed-request",
    400,
    "Bad Request",
    "The request could not be read: its body is not valid JSON or repeats a key in one "
    "object, or a header (Host, say) is malformed or not accepted. Fix the request; "
    "sending it again unchanged fails again.",
)
UNAUTHORIZED = ProblemKind(
    "unauthorized",
    401,
    "Unauthorized",
    "The operation needs an API token, and none was sent, or it is not a Bearer token, or "
    "it is unknown, revoked, or its user is inactive. Send `Authorization: Bearer <token>` "
    "with a valid token (`python -m portal token create USERNAME`). `WWW-Authenticate` "
    "says which.",
)
FORBIDDEN = ProblemKind(
    "forbidden",
    403,
    "Forbidden",
    "The token is valid, but its user may not do this (a staff-only operation, say). "
    "Another token will not help unless its user has the permission.",
)
INSUFFICIENT_SCOPE = ProblemKind(
    "insufficient-scope",
    403,
    "Insufficient Scope",
    "The token's scope does not allow the operation: a `read` token called an operation "
    "that changes data. Use a `write` token (`token create USERNAME --scope write`); "
    "`WWW-Authenticate` names the scope needed.",
)
NOT_FOUND = ProblemKind(
    "not-found",
    404,
    "Not Found",
    "There is no resource at this URL: the id names no row (or one not published yet), or "
    "the path is not one of the API's. Start again from the API's index.",
)
METHOD_NOT_ALLOWED = ProblemKind(
    "method-not-allowed",
    405,
    "Method Not Allowed",
    "The resource exists but does not answer this method; `Allow` lists those it answers.",
)
CONFLICT = ProblemKind(
    "conflict",
    409,
    "Conflict",
    "The change conflicts with data already stored (a todo name that is taken, say); "
    "`errors` names the field. Change that value, or update the existing resource.",
)
PRECONDITION_FAILED = ProblemKind(
    "precondition-failed",
    412,
    "Precondition Failed",
    "The resource changed since the client read it: the `If-Match` tag is not its current "
    "`ETag`, and nothing was changed. Read it again, reapply the change, and send it with "
    "the new tag.",
)
PAYLOAD_TOO_LARGE = ProblemKind(
    "payload-too-large",
    413,
    "Payload Too Large",
    "The body is larger than the API accepts (the `api_body_limit` setting); it was not "
    "read. Send a smaller one.",
)
UNSUPPORTED_MEDIA_TYPE = ProblemKind(
    "unsupported-media-type",
    415,
    "Unsupported Media Type",
    "The body is not declared as JSON. Send it with `Content-Type: application/json`.",
)
VALIDATION = ProblemKind(
    "validation",
    422,
    "Unprocessable Entity",
    "The input is well-formed JSON or query text but not valid: `errors` lists each field "
    "at fault (`field`, a dotted path such as `choices.0.choice_text` or a query "
    "parameter's name) with a `message` saying why.",
)
RATE_LIMITED = ProblemKind(
    "rate-limited",
    429,
    "Too Many Requests",
    "The client sent more requests than the API's rate limit allows. Wait as long as "
    "`Retry-After` says before the next one; the `RateLimit` headers say how many remain.",
)
SERVER_ERROR = ProblemKind(
    "server-error",
    500,
    "Internal Server Error",
    "An unexpected error on the server's side; it has been logged. The request may be "
    "tried again later; if it keeps failing, report it.",
)
UNAVAILABLE = ProblemKind(
    "unavailable",
    503,
    "Service Unavailable",
    "The server cannot serve the request right now (its database is not answering). "
    "Try again after `Retry-After` seconds.",
)
TIMEOUT = ProblemKind(
    "timeout",
    504,
    "Gateway Timeout",
    "The server did not finish the request in time (the `request_timeout` setting). A "
    "write may or may not have happened: read the resource before retrying it.",
)

#: Every kind, in status order: what ``<api prefix>problems/`` lists.
PROBLEM_KINDS: tuple[ProblemKind, ...] = (
    MALFORMED,
    UNAUTHORIZED,
    FORBIDDEN,
    INSUFFICIENT_SCOPE,
    NOT_FOUND,
    METHOD_NOT_ALLOWED,
    CONFLICT,
    PRECONDITION_FAILED,
    PAYLOAD_TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
    VALIDATION,
    RATE_LIMITED,
    SERVER_ERROR,
    UNAVAILABLE,
    TIMEOUT,
)

_BY_SLUG = {kind.slug: kind for kind in PROBLEM_KINDS}
# The first kind of each status is its default; the others (insufficient-scope)
# are only ever named.
_BY_STATUS: dict[int, ProblemKind] = {}
for _kind in PROBLEM_KINDS:
    _BY_STATUS.setdefault(_kind.status, _kind)


def problem_kind_named(slug: str) -> ProblemKind | None:
    """The kind whose ``type`` URI ends in *slug*; None for none."""
    return _BY_SLUG.get(slug)


def default_kind(status: int) -> ProblemKind | None:
    """The kind a problem with *status* is unless it names another; None: ``about:blank``."""
    return _BY_STATUS.get(status)


class FieldError(BaseModel):
    """One input at fault: where it is (``name``, ``choices.0.choice_text``) and why."""

    field: str
    message: str


class Problem(BaseModel):
    """An error response (RFC 9457)."""

    type: str = Field(
        default=BLANK,
        description=(
            "What kind of problem this is: a URI under the API (`<prefix>problems/<kind>`; "
            "`GET` it for a description, or list them all at `<prefix>problems/`), or "
            "`about:blank` for a status no kind covers. Compare it, not `title` or "
            "`detail`, to tell kinds apart."
        ),
    )
    title: str = Field(description="The kind's short summary; the same for every occurrence.")
    status: int = Field(description="The HTTP status of this response.")
    detail: str | None = Field(
        default=None, description="What went wrong this time, for a person to read."
    )
    errors: list[FieldError] | None = Field(
        default=None,
        description="Each input at fault, for validation and conflict problems.",
    )


def problem_types_path(request: web.Request) -> str | None:
    """The path listing the problem kinds (``/api/problems/``); None without the api app."""
    mounts = request.config_dict.get(mounts_key)
    if mounts is None or _API_APP not in mounts:
        return None
    try:
        return mounts.path(PROBLEMS_ROUTE)
    except LookupError:  # an app of that name, but not ours
        return None


def problem_response(
    request: web.Request,
    status: int,
    detail: str | None = None,
    *,
    kind: ProblemKind | None = None,
    title: str | None = None,
    errors: Sequence[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """A ``application/problem+json`` response for *status*, of *kind*.

    *kind* defaults to the status's own (:func:`default_kind`); its ``type``
    follows the API's prefix, read from *request*'s mounted apps. *title* is
    for a problem of no kind (``about:blank``, where it defaults to the status
    phrase): a kind's title is the same for every occurrence (RFC 9457 section
    3.1.3), so an exception's reason phrase does not replace it.
    """
    if kind is None:
        kind = default_kind(status)
    base = problem_types_path(request) if kind is not None else None
    if kind is None or base is None:
        # Without the api app there is no URI to name the kind by.
        type_, title = BLANK, title or HTTPStatus(status).phrase
    else:
        type_, title = base + kind.slug, kind.title
    problem = Problem(
        type=type_,
        title=title,
        status=status,
        detail=detail or None,
        errors=list(errors) if errors else None,
    )
    return web.Response(
        body=problem.model_dump_json(exclude_none=True).encode(),
        status=status,
        content_type=PROBLEM_TYPE,
        headers=headers,
    )
