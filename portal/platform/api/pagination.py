"""Keyset pagination: stable under concurrent inserts, in any ordering a list offers.

A page is ordered by (its sort column, id) and continues *after* the last
(value, id) seen, with a row comparison, so a row inserted or deleted between
two requests can neither shift a row into a page already read (a repeat) nor
out of the next one (a skip), as offsets would. The id breaks ties, so the
order is total even when the sort column repeats a value.

Where a page ends travels as an opaque, URL-safe *cursor* (``after``): the
ordering it was made for, the last row's sort value and its id. A cursor made
for another ordering is refused (422 naming ``after``) rather than read in the
wrong order; plain digits are still taken as an id for the ``id`` ordering,
as clients of the id-only lists send them.

Every list's query model forbids parameters it does not declare: a typo in a
filter's name is a 422 naming it, never a filter silently ignored.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, ClassVar, Generic, NamedTuple, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_CURSOR_LENGTH",
    "MAX_ID",
    "MAX_LIMIT",
    "Keyset",
    "OrderedPageQuery",
    "Page",
    "PageQuery",
    "PagingQuery",
    "QueryBool",
    "decode_cursor",
    "encode_cursor",
    "page_of",
]

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
#: The largest id a PostgreSQL ``integer`` column holds.
MAX_ID = 2**31 - 1
#: The longest ``after`` accepted: a cursor holds one sort value (a 255-character
#: name at most, up to 4 UTF-8 bytes each, base64 a third longer).
MAX_CURSOR_LENGTH = 1500

T = TypeVar("T")
R = TypeVar("R")

_DIGITS = frozenset("0123456789")
_INT: TypeAdapter[int] = TypeAdapter(int)
_STR: TypeAdapter[str] = TypeAdapter(str)
_CURSOR = re.compile("[A-Za-z0-9_-]+")
_CURSOR_SCHEMA = {
    "type": "string",
    "pattern": f"^{_CURSOR.pattern}$",
    "maxLength": MAX_CURSOR_LENGTH,
}


class Keyset(NamedTuple):
    """Where a page starts: after the row with sort value *value* and id *id*."""

    value: Any
    id: int


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def encode_cursor(ordering: str, value: Any, row_id: int) -> str:
    """The opaque ``after`` of the page that follows the row (*value*, *row_id*) in *ordering*."""
    data = json.dumps([ordering, _plain(value), row_id], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(data.encode()).rstrip(b"=").decode("ascii")


def _adapter(kind: Any) -> TypeAdapter[Any]:
    # Building an adapter costs far more than using one: the common two are kept.
    return _INT if kind is int else _STR if kind is str else TypeAdapter(kind)


def _bad(reason: str) -> ValueError:
    return ValueError(f"{reason}; pass the `cursor` (or follow the `next`) of the previous page")


def _sort_value(value: Any, adapter: TypeAdapter[Any]) -> Any:
    if isinstance(value, str):
        # PostgreSQL text holds no NUL, and psycopg2 cannot send lone surrogates.
        if "\x00" in value:
            raise _bad("the cursor is not valid")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _bad("the cursor is not valid") from None
    try:
        return adapter.validate_python(value, strict=adapter is _INT)
    except ValidationError:
        raise _bad("the cursor is not valid") from None


def decode_cursor(text: str, ordering: str, kind: Any) -> Keyset:
    """The :class:`Keyset` an ``after`` value stands for in *ordering*.

    *kind* is the type of the ordering's sort value (``int``, ``str``, a
    datetime type), or a ``TypeAdapter`` of it. Plain digits are an id, for
    the ``id`` ordering only. ``ValueError`` says why any other text is refused.
    """
    if len(text) > MAX_CURSOR_LENGTH:
        raise ValueError(f"the cursor is longer than {MAX_CURSOR_LENGTH} characters")
    if ordering == "id" and text and set(text) <= _DIGITS:
        row_id = int(text)
        if row_id > MAX_ID:
            raise ValueError(f"the id must be at most {MAX_ID}")
        return Keyset(row_id, row_id)
    if not _CURSOR.fullmatch(text):
        raise _bad("the cursor is not valid")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError):
        raise _bad("the cursor is not valid") from None
    if not (isinstance(data, list) and len(data) == 3 and isinstance(data[0], str)):
        raise _bad("the cursor is not valid")
    made_for, value, row_id = data
    if made_for != ordering:
        raise _bad(f"the cursor was made for ordering={made_for}, not ordering={ordering}")
    if type(row_id) is not int or not 0 <= row_id <= MAX_ID:
        raise _bad("the cursor is not valid")
    adapter = kind if isinstance(kind, TypeAdapter) else _adapter(kind)
    return Keyset(_sort_value(value, adapter), row_id)


def _true_or_false(value: object) -> object:
    # Only the two words the document names: pydantic alone would also take
    # "1", "yes", "on", "t"… which a client reading the schema never sends.
    if value in ("true", "false"):
        return value == "true"
    if isinstance(value, bool):
        return value
    raise ValueError("use true or false")


#: A boolean query parameter: ``true`` or ``false``, nothing else.
QueryBool = Annotated[bool, BeforeValidator(_true_or_false)]


def _absent_is_not_null(schema: dict[str, Any]) -> None:
    # An optional filter is ``X | None`` in Python (None: not given), but a
    # query string has no null to send: the document shows X, with no default.
    for prop in schema.get("properties", {}).values():
        if prop.get("default", ...) is not None:
            continue
        del prop["default"]
        kinds = prop.get("anyOf", [])
        if len(kinds) == 2 and {"type": "null"} in kinds:
            del prop["anyOf"]
            shown = next(kind for kind in kinds if kind != {"type": "null"})
            # The field's own description says more than its type's.
            prop.update({key: value for key, value in shown.items() if key not in prop})


class PagingQuery(BaseModel):
    """What every list's query string has: ``limit``, and no parameter it does not declare.

    Use :class:`PageQuery` for a list in id order, :class:`OrderedPageQuery`
    for one with orderings and filters.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra=_absent_is_not_null)

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="How many items to return.")

    def cursor_for(self, row: Any) -> str:
        """The ``after`` of the page that follows *row*."""
        raise NotImplementedError

    def next_query(self, cursor: str) -> dict[str, str]:
        """The following page's query string: every parameter the client set, and *cursor*."""
        sent = self.model_dump(mode="json", include=(self.model_fields_set | {"limit"}) - {"after"})
        query = {name: _query_text(value) for name, value in sent.items()}
        query["after"] = cursor
        return query


def _query_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _no_default(schema: dict[str, Any]) -> None:
    # The first page is asked for with no ``after`` at all: 0 is no cursor a client sends.
    schema.pop("default", None)


def _id_after(value: object) -> object:
    if isinstance(value, str):
        return decode_cursor(value, "id", int).id
    return value


class PageQuery(PagingQuery):
    """The query string of a list in id order: ``limit`` and ``after``.

    ``after`` arrives as the previous page's cursor (or an id, in digits) and
    is read as the id to continue after (0 for the first page).
    """

    after: Annotated[int, BeforeValidator(_id_after), WithJsonSchema(_CURSOR_SCHEMA)] = Field(
        0,
        ge=0,
        le=MAX_ID,
        description="Where the page starts: the previous page's `cursor` (or an id).",
        json_schema_extra=_no_default,
    )

    def cursor_for(self, row: Any) -> str:
        return encode_cursor("id", row.id, row.id)


class OrderedPageQuery(PagingQuery):
    """The query string of a list with orderings: ``limit``, ``ordering`` and ``after``.

    A subclass narrows ``ordering`` to its whitelist (a ``Literal`` with a
    default; ``-`` is descending), sets :attr:`sort_types` to the type of each
    ordering's sort value, and adds its filters. Each ordering names an
    attribute of the rows the list shows, which its cursor records.
    """

    #: Each ordering's field (without ``-``) and the type of its values.
    sort_types: ClassVar[Mapping[str, Any]] = {"id": int}

    ordering: str = Field("id", description="The order of the items; `-` is descending.")
    after: Annotated[Keyset | None, WithJsonSchema(_CURSOR_SCHEMA)] = Field(
        None, description="Where the page starts: the previous page's `cursor`."
    )

    #: :attr:`sort_types` as pydantic adapters, built once per class.
    _sort_adapters: ClassVar[dict[str, TypeAdapter[Any]]] = {"id": _INT}

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        schema = cls.model_json_schema()["properties"]["ordering"]
        for choice in schema.get("enum", [schema.get("const", "id")]):
            if str(choice).removeprefix("-") not in cls.sort_types:
                raise TypeError(f"{cls.__name__}: ordering {choice!r} has no entry in sort_types")
        cls._sort_adapters = {name: _adapter(kind) for name, kind in cls.sort_types.items()}

    @field_validator("after", mode="before")
    @classmethod
    def _read_cursor(cls, value: object, info: ValidationInfo) -> object:
        ordering = info.data.get("ordering")
        if ordering is None:
            return None  # the ordering itself is refused; a cursor cannot be read without it
        if not isinstance(value, str):
            return value
        return decode_cursor(value, ordering, cls._sort_adapters[ordering.removeprefix("-")])

    @property
    def sort(self) -> str:
        """The ordering's field: ``name`` for ``-name``."""
        return self.ordering.removeprefix("-")

    @property
    def descending(self) -> bool:
        return self.ordering.startswith("-")

    def cursor_for(self, row: Any) -> str:
        return encode_cursor(self.ordering, getattr(row, self.sort), row.id)


class Page(BaseModel, Generic[T]):
    """One page of a list, with how to get the following one."""

    items: list[T]
    next: str | None = Field(
        description="The URL of the following page (same filters, ordering and limit), "
        "or null at the end."
    )
    cursor: str | None = Field(
        description="The following page's `after` value, or null at the end."
    )


def page_of(
    rows: Sequence[R],
    query: PagingQuery,
    *,
    item: Callable[[R], T],
    next_url: Callable[[Mapping[str, str]], str],
) -> Page[T]:
    """A :class:`Page` from *rows*, fetched with ``limit + 1`` to know if more follow.

    *next_url* makes the list's URL with a query string.
    """
    shown = rows[: query.limit]
    cursor = query.cursor_for(shown[-1]) if len(rows) > query.limit else None
    following = None if cursor is None else next_url(query.next_query(cursor))
    return Page[T](items=[item(row) for row in shown], next=following, cursor=cursor)
