"""A list page's query string, parsed against what the table registered, and back.

``?q=`` searches, ``?o=col`` / ``?o=-col`` sorts, ``?p=`` pages and
``?f_<col>=...`` filters: ``1``/``0`` for a boolean, an id for a foreign key,
one of its values for a choice (``sa.Enum``),
``today``/``7d``/``month``/``year``/``null``/``notnull`` for a date, and
``f_<col>__gte`` / ``f_<col>__lte`` (``YYYY-MM-DD``) for a date range.
Anything else is ignored, so a URL can never name a column the admin did
not register.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from portal.platform.admin.options import AdminTable, filter_kind

__all__ = [
    "DATE_PRESETS",
    "NULL_PRESETS",
    "Condition",
    "Equals",
    "IsNull",
    "ListQuery",
    "Range",
    "parse_list_query",
    "with_params",
]

#: The date filter's choices, as ``(value, label)``.
DATE_PRESETS = (
    ("today", "Today"),
    ("7d", "Past 7 days"),
    ("month", "This month"),
    ("year", "This year"),
)
#: The extra choices of a date filter on a nullable column.
NULL_PRESETS = (("null", "No date"), ("notnull", "Has a date"))
_MAX_PAGE = 10**6


@dataclass(frozen=True, slots=True)
class Equals:
    column: str
    value: Any


@dataclass(frozen=True, slots=True)
class IsNull:
    column: str
    null: bool


@dataclass(frozen=True, slots=True)
class Range:
    """``start <= column < end``; either end may be open."""

    column: str
    start: Any
    end: Any


Condition = Equals | IsNull | Range


@dataclass(frozen=True, slots=True)
class ListQuery:
    """What a list page shows, with only registered columns and valid values in it."""

    q: str
    order: tuple[tuple[str, bool], ...]
    filters: tuple[Condition, ...]
    page: int
    #: The query string's recognised parameters, to keep in every link.
    params: Mapping[str, str]

    @property
    def filtered(self) -> bool:
        return bool(self.q.strip() or self.filters)


def with_params(params: Mapping[str, str], **changes: str | None) -> dict[str, str]:
    """*params* with *changes* applied (None removes one); any change but the page's resets it."""
    merged = dict(params)
    if set(changes) - {"p"}:
        merged.pop("p", None)
    for key, value in changes.items():
        if value is None or value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _day_start(day: dt.date, column: sa.Column) -> Any:
    if not isinstance(column.type, sa.DateTime):
        return day
    start = dt.datetime(day.year, day.month, day.day)
    return start.replace(tzinfo=dt.UTC) if column.type.timezone else start


def _preset(value: str, column: sa.Column, today: dt.date) -> Condition | None:
    name = column.name
    if value in ("null", "notnull"):
        return IsNull(name, value == "null") if column.nullable else None
    if value == "today":
        start, end = today, today + dt.timedelta(days=1)
    elif value == "7d":
        start, end = today - dt.timedelta(days=7), today + dt.timedelta(days=1)
    elif value == "month":
        start = today.replace(day=1)
        end = (start + dt.timedelta(days=32)).replace(day=1)
    elif value == "year":
        start, end = (
            today.replace(month=1, day=1),
            today.replace(year=today.year + 1, month=1, day=1),
        )
    else:
        return None
    return Range(name, _day_start(start, column), _day_start(end, column))


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _filter(
    admin: AdminTable, name: str, query: Mapping[str, str], today: dt.date, kept: dict[str, str]
) -> list[Condition]:
    column = admin.table.c[name]
    kind = filter_kind(column)
    key = f"f_{name}"
    value = query.get(key, "").strip()
    found: list[Condition] = []
    if kind == "boolean" and value in ("1", "0"):
        found.append(Equals(name, value == "1"))
    elif kind == "foreign key" and value.isdecimal() and int(value) < 2**31:
        found.append(Equals(name, int(value)))
    elif kind == "choice" and value in column.type.enums:
        found.append(Equals(name, value))
    elif kind == "date" and value:
        preset = _preset(value, column, today)
        if preset is not None:
            found.append(preset)
        else:
            value = ""
    else:
        value = ""
    if value:
        kept[key] = value
    if kind == "date":
        low = _date(query.get(f"{key}__gte", "").strip())
        high = _date(query.get(f"{key}__lte", "").strip())
        if low is not None or high is not None:
            start = _day_start(low, column) if low else None
            # Up to the last day of the calendar: no day after it to stop before.
            end = (
                _day_start(high + dt.timedelta(days=1), column)
                if high and high < dt.date.max
                else None
            )
            found.append(Range(name, start, end))
        if low is not None:
            kept[f"{key}__gte"] = low.isoformat()
        if high is not None:
            kept[f"{key}__lte"] = high.isoformat()
    return found


def _order(admin: AdminTable, text: str) -> tuple[tuple[str, bool], ...] | None:
    name = text.lstrip("-")
    if not text or name not in admin.list_display or text.count("-") > 1:
        return None
    return ((name, text.startswith("-")),)


def parse_list_query(
    admin: AdminTable, query: Mapping[str, str], *, today: dt.date | None = None
) -> ListQuery:
    """The list *query* asks for, keeping only what *admin* allows."""
    today = today or dt.datetime.now(dt.UTC).date()
    kept: dict[str, str] = {}
    # PostgreSQL refuses NUL in a text parameter (and no stored text holds one).
    q = query.get("q", "").replace("\x00", "")[:200] if admin.search else ""
    if q.strip():
        kept["q"] = q
    order = _order(admin, query.get("o", "").strip())
    if order is not None:
        kept["o"] = query["o"].strip()
    else:
        order = tuple((name.lstrip("-"), name.startswith("-")) for name in admin.ordering)
    filters: list[Condition] = []
    for name in admin.filters:
        filters += _filter(admin, name, query, today, kept)
    page_text = query.get("p", "1")
    # isdecimal, not isdigit: "²" is a digit that int() refuses.
    page = int(page_text) if page_text.isdecimal() and 0 < int(page_text) < _MAX_PAGE else 1
    if page > 1:
        kept["p"] = str(page)
    return ListQuery(q=q, order=order, filters=tuple(filters), page=page, params=kept)
