"""The rate limiter's SQL: one atomic upsert per request, and a cheap sweep.

Windows are timed by PostgreSQL's clock, which every worker process shares.
A client's window starts with its first request and lasts the rate's length;
its first request after the window ends starts the next one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from portal.platform.db.engine import Connection
from portal.platform.ratelimit.counters import api_rate_counts

__all__ = ["Count", "count_request", "sweep"]

#: Rows deleted per sweep at most: enough to keep up, small enough to be quick.
_SWEEP_BATCH = 1000

_key = sa.bindparam("key", type_=sa.Text)
_window = sa.bindparam("window", type_=sa.Interval)
_many = sa.bindparam("many", type_=sa.Integer)
_rows = api_rate_counts.c
_insert = postgresql.insert(api_rate_counts).values(
    key=_key, hits=_many, resets_at=sa.func.now() + _window
)
# Both SET expressions read the row as it was: an ended window restarts.
_ended = _rows.resets_at <= sa.func.now()
_COUNT = _insert.on_conflict_do_update(
    index_elements=[_rows.key],
    set_={
        "hits": sa.case((_ended, _insert.excluded.hits), else_=_rows.hits + _insert.excluded.hits),
        "resets_at": sa.case((_ended, _insert.excluded.resets_at), else_=_rows.resets_at),
    },
).returning(
    _rows.hits,
    sa.cast(sa.func.ceil(sa.extract("epoch", _rows.resets_at - sa.func.now())), sa.Integer).label(
        "reset"
    ),
)
# SKIP LOCKED: two processes sweeping at once split the rows instead of waiting.
_SWEEP = api_rate_counts.delete().where(
    _rows.key.in_(
        sa.select(_rows.key)
        .where(_rows.resets_at <= sa.func.now())
        .limit(_SWEEP_BATCH)
        .with_for_update(skip_locked=True)
    )
)


@dataclass(frozen=True, slots=True)
class Count:
    """A client's requests in its current window, this one included."""

    hits: int
    #: Whole seconds until the window ends (at least 1).
    reset: int


async def count_request(conn: Connection, key: str, window: dt.timedelta, many: int = 1) -> Count:
    """Count *many* requests of the client *key* in its window of length *window*."""
    row = await (await conn.execute(_COUNT, key=key, window=window, many=many)).first()
    return Count(hits=row.hits, reset=max(1, row.reset))


async def sweep(conn: Connection) -> None:
    """Delete (a batch of) the counters whose window has ended."""
    await conn.execute(_SWEEP)
