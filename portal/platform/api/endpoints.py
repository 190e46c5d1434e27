"""Endpoints as data, and the one wrapper that validates and authenticates them all."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from aiohttp import hdrs, web
from pydantic import BaseModel, ValidationError

from portal.platform.api.jsonkeys import repeated_key
from portal.platform.api.pagination import MAX_ID, PageQuery, page_of
from portal.platform.api.problems import FieldError, problem_response
from portal.platform.appspec import Mounts, mounts_key
from portal.platform.auth.current import user_key
from portal.platform.auth.tokens import Bearer, Scope, authenticate_bearer
from portal.platform.auth.users import User
from portal.platform.db.engine import db_key
from portal.platform.exceptions import ConfigurationError, Conflict, Invalid, NotFound
from portal.platform.keys import settings_key

__all__ = [
    "READ_METHODS",
    "Access",
    "Call",
    "Endpoint",
    "HasId",
    "api_endpoints_key",
    "bearer_secret",
    "install",
    "json_response",
]

#: The endpoints an API app was built from (its router and its OpenAPI document).
api_endpoints_key: web.AppKey[tuple[Endpoint, ...]] = web.AppKey("api_endpoints_key")

#: Who may call an endpoint: anyone, any token holder, or a staff user's token.
Access = Literal["public", "user", "staff"]

Handler = Callable[["Call"], Awaitable[web.StreamResponse]]

#: The methods a ``read`` token may call; any other needs a ``write`` token.
READ_METHODS = frozenset({"GET", "HEAD"})

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

    def db(self) -> AbstractAsyncContextManager[Any]:
        """A connection from the shared engine (``async with call.db() as conn``)."""
        cm: AbstractAsyncContextManager[Any] = self.request.config_dict[db_key].acquire()
        return cm

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
        """The page of *rows* (fetched with ``limit + 1``) as JSON, linking the next one.

        *route* and *parts* name the list itself, for the ``next`` URL.
        """
        query: PageQuery = self.query
        page = page_of(
            rows,
            query,
            item=item,
            row_id=lambda row: row.id,
            next_url=lambda q: self.url(route, query=q, **parts),
        )
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


def _unauthorized(detail: str, error: str | None = None) -> web.Response:
    challenge = 'Bearer realm="api"' + (f', error="{error}"' if error else "")
    return problem_response(401, detail, headers={hdrs.WWW_AUTHENTICATE: challenge})


def bearer_secret(request: web.Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header; None for none or another form."""
    scheme, _, secret = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


async def _authenticate(request: web.Request) -> Bearer | web.Response:
    if not request.headers.get(hdrs.AUTHORIZATION):
        return _unauthorized("This operation needs an API token: Authorization: Bearer <token>.")
    secret = bearer_secret(request)
    if secret is None:
        return _unauthorized(
            "Use the Bearer scheme: Authorization: Bearer <token>.", "invalid_request"
        )
    async with request.config_dict[db_key].acquire() as conn:
        bearer = await authenticate_bearer(conn, secret)
    if bearer is None:
        return _unauthorized(
            "The token is unknown, revoked, or its user is inactive.", "invalid_token"
        )
    return bearer


def _insufficient_scope(endpoint: Endpoint, bearer: Bearer) -> web.Response:
    # RFC 6750 section 3.1: 403, and the challenge names the scope needed.
    challenge = f'Bearer realm="api", error="insufficient_scope", scope="{endpoint.scope}"'
    return problem_response(
        403,
        f"This operation needs a token with the {endpoint.scope} scope; "
        f"this token's scope is {bearer.scope}.",
        headers={hdrs.WWW_AUTHENTICATE: challenge},
    )


async def _read_body(request: web.Request, model: type[BaseModel]) -> BaseModel | web.Response:
    # No Content-Type at all is taken as JSON; any other type is refused.
    if hdrs.CONTENT_TYPE in request.headers and not _JSON_TYPES.match(request.content_type):
        return problem_response(415, "Send the body as application/json.")
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
        return problem_response(413, f"The body is larger than {limit} bytes.")
    repeated = repeated_key(raw)
    if repeated is not None:
        where = _shown(repeated)
        return problem_response(
            400,
            f"The body repeats the key “{where}” in one object: each key may appear once.",
            errors=[FieldError(field=where, message="This key appears more than once.")],
        )
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        if any(error["type"] == "json_invalid" for error in exc.errors()):
            return problem_response(400, "The body is not valid JSON.")
        return problem_response(422, "The body is not valid.", errors=_field_errors(exc))


def _shown(text: str, limit: int = 100) -> str:
    """Client text fit to quote in an answer: cut short, and lone surrogates escaped
    (JSON text may hold them; UTF-8, the answer's encoding, cannot)."""
    if len(text) > limit:
        text = text[:limit] + "…"
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _wrap(
    endpoint: Endpoint, app_name: str
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    path_params = endpoint.path_params

    async def handle(request: web.Request) -> web.StreamResponse:
        params = {name: int(request.match_info[name]) for name in path_params}
        if any(value > MAX_ID for value in params.values()):
            return problem_response(404, "There is no such resource.")
        call = Call(request=request, params=params, app_name=app_name)
        if endpoint.access != "public":
            bearer = await _authenticate(request)
            if isinstance(bearer, web.Response):
                return bearer
            user = bearer.user
            request[user_key] = user  # the token's user, for the request and security logs
            if endpoint.access == "staff" and not user.is_staff:
                return problem_response(403, "This operation is for staff users only.")
            if endpoint.scope == "write" and bearer.scope != "write":
                return _insufficient_scope(endpoint, bearer)
            call.user = user
        if endpoint.query is not None:
            try:
                call.query = endpoint.query.model_validate(dict(request.query))
            except ValidationError as exc:
                return problem_response(
                    422, "The query string is not valid.", errors=_field_errors(exc)
                )
        if endpoint.body is not None:
            body = await _read_body(request, endpoint.body)
            if isinstance(body, web.Response):
                return body
            call.body = body
        try:
            return await endpoint.handler(call)
        except NotFound as exc:
            return problem_response(404, str(exc))
        except Conflict as exc:
            errors = [FieldError(field=exc.field, message=str(exc))] if exc.field else None
            return problem_response(409, str(exc), errors=errors)
        except Invalid as exc:
            errors = [FieldError(field=exc.field, message=str(exc))] if exc.field else None
            return problem_response(422, str(exc), errors=errors)

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
    for endpoint in endpoints:
        path = _PATH_PARAM.sub(r"{\1:[0-9]+}", endpoint.path)
        app.router.add_route(endpoint.method, path, _wrap(endpoint, app_name), name=endpoint.name)
