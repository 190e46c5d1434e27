"""SQLAlchemy Core pieces for keyset-paged, filtered lists, so every app's lists work alike.

A list's statement is built once per shape (which filters, which ordering,
whether it continues a page) and run with bound values, so these take and
return statements with named ``bindparam``s: ``after_value``/``after_id``
for the page, ``pattern``/``term`` for a text filter.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

__all__ = ["TRIGRAM", "contains_values", "keyset_order", "where_contains"]

#: The shortest term a trigram index can look up (shorter ones are matched by LIKE alone).
TRIGRAM = 3


def _like_pattern(term: str) -> str:
    """``%term%`` with LIKE's wildcards in *term* escaped (``\\`` is the escape character)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contains_values(term: str) -> dict[str, str]:
    """The values :func:`where_contains` binds for *term*: its LIKE pattern, and the
    term itself when it is long enough for the trigram index (``term`` in the values
    then says to build the statement with ``indexed=True``)."""
    values = {"pattern": _like_pattern(term)}
    if len(term) >= TRIGRAM:
        values["term"] = term
    return values


def where_contains(query: Any, column: Any, trigrams: str, *, indexed: bool) -> Any:
    """*query* keeping the rows whose *column* contains the bound term, ignoring case.

    *trigrams* names the SQL function an app's migration made for the column's
    GIN index over ``trigrams(lower(column))``; with *indexed*, the index finds
    the candidates (every trigram of the term is one of the text's) and
    ``ILIKE`` then decides, so no row is missed.
    """
    query = query.where(column.ilike(sa.bindparam("pattern", type_=sa.Text), escape="\\"))
    if indexed:
        function = getattr(sa.func, trigrams)
        term = function(sa.func.lower(sa.bindparam("term", type_=sa.Text)))
        query = query.where(function(sa.func.lower(column)).op("@>")(term))
    return query


def keyset_order(query: Any, column: Any, id_column: Any, *, descending: bool, after: bool) -> Any:
    """*query* in (*column*, id) order (the id alone when *column* is it), continuing
    after the bound ``after_value``/``after_id`` when *after*: a row comparison, so
    rows inserted meanwhile neither shift nor repeat what a page shows."""
    if after:
        last_id = sa.bindparam("after_id", type_=sa.Integer)
        if column is id_column:
            query = query.where(id_column < last_id if descending else id_column > last_id)
        else:
            key = sa.tuple_(column, id_column)
            last = sa.tuple_(sa.bindparam("after_value", type_=column.type), last_id)
            query = query.where(key < last if descending else key > last)
    columns = [column] if column is id_column else [column, id_column]
    return query.order_by(*(c.desc() if descending else c for c in columns))
