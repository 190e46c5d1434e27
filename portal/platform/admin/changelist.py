"""The list page as the template shows it: headers with sort links, cells, filters, pages.

Every link keeps the list's current query (search, filters, order) and
changes one thing; changing anything but the page goes back to page one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa

from portal.platform.admin.fields import to_display
from portal.platform.admin.listing import DATE_PRESETS, NULL_PRESETS, ListQuery, with_params
from portal.platform.admin.options import AdminTable, filter_kind
from portal.platform.admin.queries import Page

__all__ = ["Cell", "ChangeList", "Choice", "Column", "FilterView", "ListRow", "PageLink", "build"]

#: Builds the list's URL for a query.
Link = Callable[[Mapping[str, str]], str]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    label: str
    #: Following it sorts by this column (the other way when it already is).
    sort_url: str
    #: ``ascending``/``descending`` when the list is sorted by it (``aria-sort``).
    sorted: Literal["ascending", "descending"] | None


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    kind: Literal["text", "number", "boolean", "empty"]


@dataclass(frozen=True, slots=True)
class ListRow:
    id: int
    title: str
    cells: list[Cell]


@dataclass(frozen=True, slots=True)
class Choice:
    label: str
    url: str
    selected: bool
    #: For ids: ``filter-<column>-<value>``.
    key: str


@dataclass(frozen=True, slots=True)
class FilterView:
    name: str
    label: str
    kind: str
    choices: list[Choice]
    #: A date filter's range inputs, as currently set.
    gte: str = ""
    lte: str = ""
    #: A foreign key with too many rows to list: its id input's value.
    id_value: str | None = None
    #: The other parameters, kept as hidden inputs by the filter's own form.
    hidden: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class PageLink:
    #: None for the gap between distant pages.
    number: int | None
    url: str
    current: bool


def _cell(value: Any, column: sa.Column, titles: Mapping[int, str] | None) -> Cell:
    if value is None:
        return Cell("—", "empty")
    if titles is not None:
        return Cell(titles.get(value, str(value)), "text")
    if isinstance(value, bool):
        return Cell("Yes" if value else "No", "boolean")
    if isinstance(column.type, sa.Integer | sa.Numeric):
        return Cell(str(value), "number")
    return Cell(to_display(value), "text")


def _columns(admin: AdminTable, query: ListQuery, link: Link) -> list[Column]:
    first_name, first_descending = query.order[0] if query.order else ("id", False)
    columns = []
    for name in admin.list_display:
        state: Literal["ascending", "descending"] | None = None
        if name == first_name:
            state = "descending" if first_descending else "ascending"
        toggled = f"-{name}" if state == "ascending" else name
        columns.append(
            Column(name, admin.label_of(name), link(with_params(query.params, o=toggled)), state)
        )
    return columns


def _hidden(params: Mapping[str, str], *drop: str) -> tuple[tuple[str, str], ...]:
    return tuple((k, v) for k, v in params.items() if k not in drop and k != "p")


def _filter(
    admin: AdminTable,
    name: str,
    query: ListQuery,
    link: Link,
    options: Sequence[tuple[int, str]] | None,
) -> FilterView:
    column = admin.table.c[name]
    kind = filter_kind(column) or ""
    key = f"f_{name}"
    current = query.params.get(key, "")
    values: list[tuple[str, str]] = [("", "All")]
    if kind == "boolean":
        values += [("1", "Yes"), ("0", "No")]
    elif kind == "choice":
        values += [(value, value) for value in column.type.enums]
    elif kind == "date":
        values = [("", "Any date"), *DATE_PRESETS]
        if column.nullable:
            values += list(NULL_PRESETS)
    elif options is not None:
        values += [(str(row_id), title) for row_id, title in options]
    choices = [
        Choice(label, link(with_params(query.params, **{key: value})), value == current, value)
        for value, label in values
    ]
    gte = lte = ""
    id_value = None
    hidden: tuple[tuple[str, str], ...] = ()
    if kind == "date":
        gte = query.params.get(f"{key}__gte", "")
        lte = query.params.get(f"{key}__lte", "")
        hidden = _hidden(query.params, f"{key}__gte", f"{key}__lte")
    elif kind == "foreign key" and options is None:
        # Too many rows to list: the filter takes an id instead.
        choices, id_value, hidden = choices[:1], current, _hidden(query.params, key)
    return FilterView(name, admin.label_of(name), kind, choices, gte, lte, id_value, hidden)


def _pages(page: Page, query: ListQuery, link: Link) -> list[PageLink]:
    wanted = {1, page.pages, *range(page.number - 2, page.number + 3)}
    numbers = sorted(n for n in wanted if 1 <= n <= page.pages)
    links: list[PageLink] = []
    for number in numbers:
        if links and links[-1].number is not None and number - (links[-1].number or 0) > 1:
            links.append(PageLink(None, "", False))
        url = link(with_params(query.params, p=str(number) if number > 1 else None))
        links.append(PageLink(number, url, number == page.number))
    return links


@dataclass(frozen=True, slots=True)
class ChangeList:
    columns: list[Column]
    rows: list[ListRow]
    filters: list[FilterView]
    pages: list[PageLink]
    previous_url: str | None
    next_url: str | None
    #: The search form's hidden inputs (the filters and order it keeps).
    search_hidden: tuple[tuple[str, str], ...]


def build(
    admin: AdminTable,
    query: ListQuery,
    page: Page,
    *,
    link: Link,
    titles: Mapping[str, Mapping[int, str]],
    options: Mapping[str, Sequence[tuple[int, str]] | None],
) -> ChangeList:
    """Everything the list template needs, from the page of rows and the query."""
    rows = [
        ListRow(
            id=row["id"],
            title=str(row.get(admin.title) if admin.title != "id" else f"#{row['id']}"),
            cells=[
                _cell(row[name], admin.table.c[name], titles.get(name))
                for name in admin.list_display
            ],
        )
        for row in page.rows
    ]

    def page_url(number: int) -> str:
        return link(with_params(query.params, p=str(number) if number > 1 else None))

    return ChangeList(
        columns=_columns(admin, query, link),
        rows=rows,
        filters=[_filter(admin, name, query, link, options.get(name)) for name in admin.filters],
        pages=_pages(page, query, link),
        previous_url=page_url(page.number - 1) if page.number > 1 else None,
        next_url=page_url(page.number + 1) if page.number < page.pages else None,
        search_hidden=_hidden(query.params, "q"),
    )
