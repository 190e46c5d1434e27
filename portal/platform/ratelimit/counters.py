"""The API rate limiter's counters (created by ``platform_0008_api_rate_counts``).

One row per client being counted, holding its requests in the current window.
The table is ``UNLOGGED``: written on every API request, it skips the
write-ahead log, and a crash empties it, which only forgives every client's
current window. It shares the platform's metadata so ``makemigrations``
sees it.

The module is not named ``tables.py`` on purpose: ``dumpdata`` dumps every
platform table declared in one, and counters that change with every API
request are no data to keep or load.
"""

from __future__ import annotations

import sqlalchemy as sa

from portal.platform.auth.tables import metadata

__all__ = ["api_rate_counts"]

api_rate_counts = sa.Table(
    "api_rate_counts",
    metadata,
    # ``token:<sha256 of the secret>`` or ``address:<client address>``.
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("hits", sa.Integer, nullable=False),
    # When the window ends: the next request after it starts a new one.
    sa.Column("resets_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("api_rate_counts_resets_at", "resets_at"),
    prefixes=["UNLOGGED"],
)
