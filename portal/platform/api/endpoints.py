"""Endpoints as data, and the one wrapper that validates and authenticates them all."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from aiohttp import hdrs, web
from pydantic import BaseModel, ValidationError
from yarl import URL

from portal.platform.api.conditional import (
    LOCK,
    entity_tag,
    matches_strongly,
    matches_weakly,
)
from portal.platform.api.jsonkeys import repeated_key
from portal.platform.api.pagination import MAX_ID, PagingQuery, page_of
from portal.platform.api.problems import INSUFFICIENT_SCOPE, FieldError, problem_response
from portal.platform.appspec import Mounts, mounts_key
from portal.platform.auth.current import bearer_key, user_key
from portal.platform.auth.tokens import Bearer, Scope, authenticate_bearer
from portal.platform.auth.users import User
from portal.platform.db.engine import db_key
from portal.platform.exceptions import ConfigurationError, Conflict, Invalid, NotFound
from portal.platform.keys import settings_key

__all__ = [
    "CONDITIONAL_METHODS",
    "READ_METHODS",
    "Access",
    "Call",
    "Endpoint",
    "HasId",
    "api_endpoints_key",
    "bearer_secret",
    "install",
    "json_response",
    "read_twins",
]

#: The endpoints an API app was built from (its router and its OpenAPI document).
api_endpoints_key: web.AppKey[tuple[Endpoint, ...]] = web.AppKey("api_endpoints_key")

#: Who may call an endpoint: anyone, any token holder, or a staff user's token.
Access = Literal["public", "user", "staff"]

Handler = Callable[["Call"], Awaitable[web.StreamResponse]]

#: The methods a ``read`` token may call; any other needs a ``write`` token.
READ_METHODS = frozenset({"GET", "HEAD"})

#: The methods that honour ``If-Match`` (and ``Prefer``) on a URL that also has a ``GET``.
CONDITIONAL_METHODS = frozenset({"PATCH", "PUT", "DELETE"})

_PATH_PARAM = re.compile(r"\{(\w+)\}")
_JSON_TYPES = re.compile(r"^application/(?:[\w.+-]+\+)?json$")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One operation: what it accepts, what it answers, who may call it."""

    method: str
    #: Relative to the API's prefix, OpenAPI style: ``/todos/{todo_id}``. Every
    #: path parameter is a positive integer id.
    path: str
    #: The route name (shared by the operations on one URL): ``todos.item``.
    name: str
    handler: Handler
    summary: str
    tag: str
    status: int = 200
    #: The success body's model; None for a response without a body (204).
    response: Any = None
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    access: Access = "public"
    #: The success response points at a new resource with ``Location``.
    location: bool = False
    #: Further statuses the handler may answer with (409 for a duplicate).
    errors: tuple[int, ...] = ()
    description: str = ""

    @property
    def path_params(self) -> list[str]:
        return _PATH_PARAM.findall(self.path)

    @property
    def operation_id(self) -> str:
        return self.handler.__name__

    @property
    def scope(self) -> Scope:
        """The token scope calling it needs (when it needs a token at all): reads
        take any token, every other method a ``write`` one."""
        return "read" if self.method.upper() in READ_METHODS else "write"


class HasId(Protocol):
    """A row with an integer id, which keyset pages continue after."""

    @property
    def id(self) -> int: ...


@dataclass(slots=True)
class Call:
    """What a handler gets: the request, and its inputs already validated."""

    request: web.Request
    params: dict[str, int]
    body: Any = None
    query: Any = None
    user: User | None = None
    app_name: str = field(default="api")
    _mounts: Mounts | None = field(default=None, repr=False)
    #: The connection every ``db()`` of this call shares, when the wrapper holds
    #: one for it (a conditional write: its lock and the write on one transaction).
    _conn: Any = field(default=None, repr=False)

    def db(self) -> AbstractAsyncContextManager[Any]:
        """A connection from the shared engine (``async with call.db() as conn``)."""
        if self._conn is not None:
            return nullcontext(self._conn)
        cm: AbstractAsyncContextManager[Any] = self.request.config_dict[db_key].acquire()
        return cm

    async def reader(self, conn: Any) -> User | None:
        """Who is calling: on an open read, the user of the token it sent, if that is valid.

        A read needs no token, so without one, or with one that is malformed,
        unknown or revoked, the caller is simply the public (None). The token
        is looked up at most once per request, on *conn*: the rate limiter may
        have done it already (``bearer_key``).
        """
        if self.user is None:
            if bearer_key not in self.request:
                secret = bearer_secret(self.request)
                if secret is None:
                    return None
                self.request[bearer_key] = await authenticate_bearer(conn, secret)
            bearer = self.request[bearer_key]
            if bearer is not None:
                self.user = self.request[user_key] = bearer.user
        return self.user

    def url(self, name: str, *, query: Mapping[str, int] | None = None, **parts: int) -> str:
        """The path of this API's route *name* (``todos.item``), following the prefix."""
        # A list builds a URL per row: look the mounts up once per call.
        if self._mounts is None:
            self._mounts = self.request.config_dict[mounts_key]
        route = f"{self.app_name}:{name}"
        if query is None:
            return self._mounts.path(route, **parts)
        return str(self._mounts.url(route, query=query, **parts))

    def page(
        self, rows: Sequence[HasId], item: Callable[[Any], BaseModel], route: str, **parts: int
    ) -> web.Response:
        """The page of *rows* (fetched with ``limit + 1``) as JSON, with the next one's cursor.

        *route* and *parts* name the list itself, for the ``next`` URL, which
        keeps every parameter the client sent (filters, ordering, limit).
        """
        query: PagingQuery = self.query
        path = URL(self.url(route, query=None, **parts))
        page = page_of(rows, query, item=item, next_url=lambda q: str(path.with_query(q)))
        return json_response(page)


def json_response(
    data: BaseModel, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """*data* serialised by its model (fast, and exactly what the schema says)."""
    return web.Response(
        body=data.model_dump_json().encode(),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def _field_errors(exc: ValidationError, prefix: tuple[str, ...] = ()) -> list[FieldError]:
    return [
        FieldError(
            field=".".join(str(part) for part in (*prefix, *error["loc"])) or "body",
            message=error["msg"],
        )
        for error in exc.errors(include_url=False)
    ]


def _unauthorized(request: web.Request, detail: str, error: str | None = None) -> web.Response:
    challenge = 'Bearer realm="api"' + (f', error="{error}"' if error else "")
    return problem_response(request, 401, detail, headers={hdrs.WWW_AUTHENTICATE: challenge})


def bearer_secret(request: web.Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header; None for none or another form."""
    scheme, _, secret = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


async def _authenticate(request: web.Request) -> Bearer | web.Response:
    if not request.headers.get(hdrs.AUTHORIZATION):
        return _unauthorized(
            request, "This operation needs an API token: Authorization: Bearer <token>."
        )
    secret = bearer_secret(request)
    if secret is None:
        return _unauthorized(
            request, "Use the Bearer scheme: Authorization: Bearer <token>.", "invalid_request"
        )
    if bearer_key in request:
        # Already looked up for this request (by the rate limiter).
        bearer = request[bearer_key]
    else:
        async with request.config_dict[db_key].acquire() as conn:
            bearer = await authenticate_bearer(conn, secret)
    if bearer is None:
        return _unauthorized(
            request, "The token is unknown, revoked, or its user is inactive.", "invalid_token"
        )
    return bearer


def _insufficient_scope(request: web.Request, endpoint: Endpoint, bearer: Bearer) -> web.Response:
    # RFC 6750 section 3.1: 403, and the challenge names the scope needed.
    challenge = f'Bearer realm="api", error="insufficient_scope", scope="{endpoint.scope}"'
    return problem_response(
        request,
        403,
        f"This operation needs a token with the {endpoint.scope} scope; "
        f"this token's scope is {bearer.scope}.",
        kind=INSUFFICIENT_SCOPE,
        headers={hdrs.WWW_AUTHENTICATE: challenge},
    )


async def _read_body(request: web.Request, model: type[BaseModel]) -> BaseModel | web.Response:
    # No Content-Type at all is taken as JSON; any other type is refused.
    if hdrs.CONTENT_TYPE in request.headers and not _JSON_TYPES.match(request.content_type):
        return problem_response(request, 415, "Send the body as application/json.")
    limit = request.config_dict[settings_key].api_body_limit
    # A declared length over the limit never gets here (the root's body-limit
    # middleware refuses it unread). Read at most one byte past the limit: a
    # body that omits its length, or is compressed, is still cut off without
    # being buffered whole. readexactly, not read: read(n) returns whatever
    # has arrived so far, maybe one chunk.
    try:
        await request.content.readexactly(limit + 1)
    except asyncio.IncompleteReadError as exc:
        raw = exc.partial
    else:
        return problem_response(request, 413, f"The body is larger than {limit} bytes.")
    repeated = repeated_key(raw)
    if repeated is not None:
        where = _shown(repeated)
        return problem_response(
            request,
            400,
            f"The body repeats the key “{where}” in one object: each key may appear once.",
            errors=[FieldError(field=where, message="This key appears more than once.")],
        )
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        if any(error["type"] == "json_invalid" for error in exc.errors()):
            return problem_response(request, 400, "The body is not valid JSON.")
        return problem_response(request, 422, "The body is not valid.", errors=_field_errors(exc))


def _shown(text: str, limit: int = 100) -> str:
    """Client text fit to quote in an answer: cut short, and lone surrogates escaped
    (JSON text may hold them; UTF-8, the answer's encoding, cannot)."""
    if len(text) > limit:
        text = text[:limit] + "…"
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _tagged(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    """A ``GET``'s 200 with its ``ETag``; ``304`` with no body when the client's copy is current."""
    if response.status != 200 or not isinstance(response, web.Response):
        return response
    body = response.body
    if not isinstance(body, bytes):
        return response
    tag = entity_tag(body)
    response.headers["ETag"] = tag
    if_none_match = request.headers.get(hdrs.IF_NONE_MATCH)
    if if_none_match is not None and matches_weakly(if_none_match, tag):
        return web.Response(status=304, headers={"ETag": tag})
    return response


def _wants_representation(request: web.Request) -> bool:
    """Whether the client sent ``Prefer: return=representation`` (RFC 7240)."""
    for header in request.headers.getall("Prefer", ()):
        for preference in header.split(","):
            name, _, value = preference.partition(";")[0].partition("=")
            if name.strip().lower() == "return" and value.strip().strip('"') == "representation":
                return True
    return False


async def _representation(twin: Endpoint, call: Call) -> web.StreamResponse:
    """The resource's current ``GET`` answer, through the call's connection.

    :class:`NotFound` when there is none: a condition on a resource that is
    not there is ignored and the answer is 404 (RFC 9110 section 13.2.1), as
    it would be without the condition.
    """
    twin_call = Call(
        request=call.request,
        params=call.params,
        user=call.user,
        app_name=call.app_name,
        _conn=call._conn,
    )
    return await twin.handler(twin_call)


def _tag_of(response: web.StreamResponse) -> str | None:
    if not isinstance(response, web.Response) or not isinstance(response.body, bytes):
        return None
    return entity_tag(response.body)


async def _conditional_write(
    endpoint: Endpoint, twin: Endpoint, call: Call, if_match: str | None, represent: bool
) -> web.StreamResponse:
    """Run a ``PATCH``/``PUT``/``DELETE`` under ``If-Match`` and/or ``Prefer``, as one transaction.

    With ``If-Match``, an advisory lock on the resource is taken before its
    current tag is read, so of two clients holding one tag the second finds it
    changed (412), never overwriting the first unseen. After the write the new
    representation's tag is sent, so the client can go on without a ``GET``;
    with ``Prefer: return=representation`` the representation itself (200).
    """
    request = call.request
    async with request.config_dict[db_key].acquire() as conn, conn.begin():
        call._conn = conn
        if if_match is not None:
            ids = ",".join(f"{name}={value}" for name, value in sorted(call.params.items()))
            await conn.execute(LOCK, name=f"{call.app_name}:{twin.name}:{ids}")
            current = _tag_of(await _representation(twin, call))
            if not matches_strongly(if_match, current):
                return problem_response(
                    request,
                    412,
                    "The resource has changed since that tag was read: "
                    "GET it again, then retry with its new ETag.",
                )
        response = await endpoint.handler(call)
        if endpoint.method.upper() == "DELETE" or response.status not in (200, 204):
            return response
        after = await _representation(twin, call)
        tag = _tag_of(after)
        if tag is None:
            return response
        if represent:
            after.headers["Preference-Applied"] = "return=representation"
            response = after
        response.headers["ETag"] = tag
        return response


def read_twins(endpoints: Iterable[Endpoint]) -> dict[Endpoint, Endpoint]:
    """Each ``PATCH``, ``PUT`` or ``DELETE`` of *endpoints* that honours ``If-Match``,
    mapped to the ``GET`` on its URL (whose answer its tags are digests of)."""
    endpoints = tuple(endpoints)
    reads = {e.path: e for e in endpoints if e.method.upper() == "GET"}
    return {
        e: reads[e.path]
        for e in endpoints
        if e.method.upper() in CONDITIONAL_METHODS and e.path in reads
    }


def _wrap(
    endpoint: Endpoint, app_name: str, twin: Endpoint | None = None
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The request handler of *endpoint*; *twin* is its read twin (:func:`read_twins`)."""
    path_params = endpoint.path_params
    method = endpoint.method.upper()

    async def handle(request: web.Request) -> web.StreamResponse:
        params = {name: int(request.match_info[name]) for name in path_params}
        if any(value > MAX_ID for value in params.values()):
            return problem_response(request, 404, "There is no such resource.")
        call = Call(request=request, params=params, app_name=app_name)
        if endpoint.access == "public":
            # An open read needs no token, but one already checked for this
            # request (by the rate limiter) says who is reading, for free.
            known = request.get(bearer_key)
            if known is not None:
                call.user = request[user_key] = known.user
        else:
            bearer = await _authenticate(request)
            if isinstance(bearer, web.Response):
                return bearer
            user = bearer.user
            request[user_key] = user  # the token's user, for the request and security logs
            if endpoint.access == "staff" and not user.is_staff:
                return problem_response(request, 403, "This operation is for staff users only.")
            if endpoint.scope == "write" and bearer.scope != "write":
                return _insufficient_scope(request, endpoint, bearer)
            call.user = user
        if endpoint.query is not None:
            try:
                call.query = endpoint.query.model_validate(dict(request.query))
            except ValidationError as exc:
                return problem_response(
                    request, 422, "The query string is not valid.", errors=_field_errors(exc)
                )
        if endpoint.body is not None:
            body = await _read_body(request, endpoint.body)
            if isinstance(body, web.Response):
                return body
            call.body = body
        try:
            if method == "GET":
                return _tagged(request, await endpoint.handler(call))
            if twin is not None:
                if_match = request.headers.get(hdrs.IF_MATCH)
                represent = method != "DELETE" and _wants_representation(request)
                if if_match is not None or represent:
                    return await _conditional_write(endpoint, twin, call, if_match, represent)
            return await endpoint.handler(call)
        except NotFound as exc:
            return problem_response(request, 404, str(exc))
        except Conflict as exc:
            errors = [FieldError(field=exc.field, message=str(exc))] if exc.field else None
            return problem_response(request, 409, str(exc), errors=errors)
        except Invalid as exc:
            errors = [FieldError(field=exc.field, message=str(exc))] if exc.field else None
            return problem_response(request, 422, str(exc), errors=errors)

    handle.__name__ = endpoint.operation_id
    handle.__doc__ = endpoint.summary
    return handle


def _origin(endpoint: Endpoint) -> str:
    return f"{endpoint.handler.__module__}.{endpoint.handler.__qualname__}"


def _refuse_clashes(endpoints: Sequence[Endpoint]) -> None:
    """Stop start-up when two endpoints (of two apps, say) would shadow or blur each other.

    aiohttp would route only the first of two equal operations, silently, and
    the document would name two operations alike; so each clash is refused
    here, naming both handlers.
    """
    operations: dict[tuple[str, str], Endpoint] = {}
    by_name: dict[str, Endpoint] = {}
    ids: dict[str, Endpoint] = {}
    for endpoint in endpoints:
        key = (endpoint.method.upper(), endpoint.path)
        if (other := operations.setdefault(key, endpoint)) is not endpoint:
            raise ConfigurationError(
                f"API operation {key[0]} {key[1]} is declared twice: by {_origin(other)} "
                f"and by {_origin(endpoint)}"
            )
        other = by_name.setdefault(endpoint.name, endpoint)
        if other.path != endpoint.path:
            raise ConfigurationError(
                f"API route name {endpoint.name!r} is given to two paths: {other.path!r} "
                f"({_origin(other)}) and {endpoint.path!r} ({_origin(endpoint)}); rename one"
            )
        if (other := ids.setdefault(endpoint.operation_id, endpoint)) is not endpoint:
            raise ConfigurationError(
                f"API operation id {endpoint.operation_id!r} (the handler's name) is used twice: "
                f"by {_origin(other)} and by {_origin(endpoint)}; rename one handler"
            )


def install(app: web.Application, endpoints: Iterable[Endpoint], *, app_name: str = "api") -> None:
    """Add every endpoint to *app*'s router; ids in paths match ASCII digits only.

    Two endpoints with one method and path, one route name on two paths, or
    one operation id (handler name) twice stop start-up with a
    :class:`~portal.platform.exceptions.ConfigurationError` naming both.
    """
    endpoints = tuple(endpoints)
    _refuse_clashes(endpoints)
    app[api_endpoints_key] = endpoints
    twins = read_twins(endpoints)
    for endpoint in endpoints:
        path = _PATH_PARAM.sub(r"{\1:[0-9]+}", endpoint.path)
        handler = _wrap(endpoint, app_name, twins.get(endpoint))
        app.router.add_route(endpoint.method, path, handler, name=endpoint.name)
