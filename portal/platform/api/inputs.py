"""Building blocks for what an API accepts: strict bodies, real text, RFC 3339 times.

Every app's request models are made of these, so each refuses the same
things the same way: an unknown field, a blank or NUL-bearing string, a date
that is not RFC 3339 text.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

__all__ = ["Input", "Timestamp", "search_text", "text"]


class Input(BaseModel):
    """The base of a request body's model: a field it does not declare is refused (422)."""

    model_config = ConfigDict(extra="forbid")


def text(max_length: int) -> object:
    """A string with something besides whitespace in it and no NUL (PostgreSQL refuses NUL).

    Use it as ``Annotated[str, text(N)]``, N being the column's length.
    ``\\x1c``-``\\x1f`` are listed because Python's ``str.strip()`` removes
    them while the regex engine's ``\\s`` does not.
    """
    return StringConstraints(
        strict=True,
        min_length=1,
        max_length=max_length,
        pattern=r"^[^\x00]*[^\x00\s\x1c-\x1f][^\x00]*$",
    )


def search_text(max_length: int) -> object:
    """A text filter's value (``name_contains``): 1 to *max_length* characters, no NUL.

    Unlike :func:`text`, blanks are kept: a client may look for a space. Use it
    as ``Annotated[str, search_text(N)]``, N being the column's length.
    """
    return StringConstraints(min_length=1, max_length=max_length, pattern=r"^[^\x00]*$")


def _utc(value: dt.datetime) -> dt.datetime:
    try:
        return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
    except OverflowError:
        raise ValueError("the date is out of range") from None


#: RFC 3339's ``date-time``, its offset optional (ASCII digits: ``\d`` is any Unicode digit).
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})?"
)


def _date_time_text(value: object) -> object:
    # Not pydantic's Strict(): even strict, it reads the string "0" as seconds
    # since the epoch, and takes "12:30" without seconds or a space for the
    # "T". The document says RFC 3339 text, so nothing else gets through: no
    # JSON number either, whatever epoch it might count from.
    if isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or not _DATE_TIME.fullmatch(value):
        raise ValueError("the date must be an RFC 3339 date-time, like 2024-05-01T12:30:00Z")
    return value


#: A point in time; one without an offset is taken as UTC.
Timestamp = Annotated[
    dt.datetime,
    BeforeValidator(_date_time_text),
    AfterValidator(_utc),
    Field(description="RFC 3339 date-time; without an offset it is taken as UTC."),
]
