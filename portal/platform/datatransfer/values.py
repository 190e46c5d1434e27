"""How each column type's values are written to JSON and read back, exactly."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from portal.platform.datatransfer.catalogue import TransferError

__all__ = ["Codec", "table_codecs"]


@dataclass(frozen=True, slots=True)
class Codec:
    """A column's value to JSON and back."""

    #: A database value (never None) to its JSON value.
    encode: Callable[[Any], Any]
    #: A JSON value (never None) to a database value; ValueError says why not.
    decode: Callable[[Any], Any]


def _expect(kind: type | tuple[type, ...], what: str) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        # bool is an int to Python, never to a column.
        if isinstance(value, bool) is not (kind is bool) or not isinstance(value, kind):
            raise ValueError(f"expected {what}, got {json.dumps(value, ensure_ascii=False)}")

    return check


def _integer(bits: int) -> Codec:
    check = _expect(int, "an integer")
    bound = 2 ** (bits - 1)

    def decode(value: Any) -> int:
        check(value)
        if not -bound <= value < bound:
            raise ValueError(f"{value} is out of range for a {bits}-bit integer")
        return int(value)

    return Codec(int, decode)


def _string(column_type: sa.String) -> Codec:
    check = _expect(str, "a string")

    def decode(value: Any) -> str:
        check(value)
        if column_type.length is not None and len(value) > column_type.length:
            raise ValueError(f"longer than {column_type.length} characters")
        if "\x00" in value:
            raise ValueError("PostgreSQL text cannot hold the NUL character")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("not valid unicode (a lone surrogate)") from None
        if isinstance(column_type, sa.Enum) and value not in column_type.enums:
            raise ValueError(f"{value!r} is not one of {', '.join(column_type.enums)}")
        return str(value)

    return Codec(str, decode)


def _timestamp(with_zone: bool) -> Codec:
    check = _expect(str, "an ISO 8601 timestamp")

    def encode(value: dt.datetime) -> str:
        if with_zone:
            # UTC whatever the session's TimeZone, so dumps compare byte for byte.
            value = value.astimezone(dt.UTC)
        return value.isoformat(timespec="microseconds")

    def decode(value: Any) -> dt.datetime:
        check(value)
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO 8601 timestamp") from None
        if with_zone and parsed.tzinfo is None:
            raise ValueError(f"{value!r} has no UTC offset")
        if not with_zone and parsed.tzinfo is not None:
            raise ValueError(f"{value!r} has a UTC offset; the column has no time zone")
        return parsed

    return Codec(encode, decode)


def _iso(kind: type[dt.date] | type[dt.time], what: str) -> Codec:
    check = _expect(str, what)

    def decode(value: Any) -> Any:
        check(value)
        try:
            return kind.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not {what}") from None

    return Codec(lambda value: value.isoformat(), decode)


def _numeric() -> Codec:
    check = _expect(str, "a decimal number as a string")

    def decode(value: Any) -> decimal.Decimal:
        check(value)
        try:
            return decimal.Decimal(value)
        except decimal.InvalidOperation:
            raise ValueError(f"{value!r} is not a decimal number") from None

    # A string, as JSON numbers are read back as binary floats.
    return Codec(str, decode)


def _float() -> Codec:
    check = _expect((int, float), "a number")

    def decode(value: Any) -> float:
        check(value)
        return float(value)

    return Codec(float, decode)


def _binary() -> Codec:
    check = _expect(str, "base64 text")

    def decode(value: Any) -> bytes:
        check(value)
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error:
            raise ValueError("not valid base64") from None

    return Codec(lambda value: base64.b64encode(bytes(value)).decode("ascii"), decode)


def _uuid(as_uuid: bool) -> Codec:
    check = _expect(str, "a UUID")

    def decode(value: Any) -> Any:
        check(value)
        try:
            parsed = uuid.UUID(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a UUID") from None
        return parsed if as_uuid else str(parsed)

    return Codec(str, decode)


def _same(value: Any) -> Any:
    return value


def _boolean() -> Codec:
    check = _expect(bool, "true or false")

    def decode(value: Any) -> bool:
        check(value)
        return bool(value)

    return Codec(bool, decode)


_JSON: Final = Codec(_same, _same)


def _codec(column: sa.Column[Any]) -> Codec:
    """How *column*'s values are written and read; unknown types are refused, named."""
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return _boolean()
    if isinstance(kind, sa.BigInteger):
        return _integer(64)
    if isinstance(kind, sa.SmallInteger):
        return _integer(16)
    if isinstance(kind, sa.Integer):
        return _integer(32)
    if isinstance(kind, sa.Float):
        return _float()
    if isinstance(kind, sa.Numeric):
        return _numeric()
    if isinstance(kind, sa.DateTime):
        return _timestamp(bool(kind.timezone))
    if isinstance(kind, sa.Date):
        return _iso(dt.date, "an ISO 8601 date")
    if isinstance(kind, sa.Time) and not kind.timezone:
        return _iso(dt.time, "an ISO 8601 time")
    if isinstance(kind, sa.JSON):
        return _JSON
    if isinstance(kind, postgresql.UUID):
        return _uuid(bool(kind.as_uuid))
    if isinstance(kind, sa.String):
        return _string(kind)
    if isinstance(kind, sa.LargeBinary):
        return _binary()
    raise TransferError(
        f"column {column.table.name}.{column.name} has type {kind}, which dumpdata cannot write yet"
    )


def table_codecs(table: sa.Table) -> dict[str, Codec]:
    """Each column of *table* by name, with its :class:`Codec`."""
    return {column.name: _codec(column) for column in table.columns}
