"""Keyset pagination: stable under concurrent inserts, with the next page's URL.

Pages are ordered by id and continue *after* the last id seen, so a row
inserted between two requests can neither shift a row into a page already
read (a repeat) nor out of the next one (a skip), as offsets would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DEFAULT_LIMIT", "MAX_ID", "MAX_LIMIT", "Page", "PageQuery", "page_of"]

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
#: The largest id a PostgreSQL ``integer`` column holds.
MAX_ID = 2**31 - 1

T = TypeVar("T")
R = TypeVar("R")


class PageQuery(BaseModel):
    """The query string of every list."""

    model_config = ConfigDict(extra="ignore")

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="How many items to return.")
    after: int = Field(
        0, ge=0, le=MAX_ID, description="Return items after this id (follow `next`)."
    )


class Page(BaseModel, Generic[T]):
    """One page of a list; ``next`` is the URL of the following page, or null at the end."""

    items: list[T]
    next: str | None


def page_of(
    rows: Sequence[R],
    query: PageQuery,
    *,
    item: Callable[[R], T],
    row_id: Callable[[R], int],
    next_url: Callable[[dict[str, int]], str],
) -> Page[T]:
    """A :class:`Page` from *rows*, fetched with ``limit + 1`` to know if more follow."""
    more = len(rows) > query.limit
    shown = rows[: query.limit]
    following = next_url({"limit": query.limit, "after": row_id(shown[-1])}) if more else None
    return Page[T](items=[item(row) for row in shown], next=following)
