"""Tables to JSON and back: what ``dumpdata`` writes and ``loaddata`` reads.

A dump is a JSON list with one record per line, each
``{"fields": {column: value, ...}, "table": "app.table"}``: tables in an order
where every table comes after those its foreign keys point at, rows by
primary key, keys sorted. The same rows therefore always give the same bytes,
and a dump diffs line by line.

Tables are named by their owner: an installed app's (its spec's
``metadata``), or ``platform`` for the platform's own (users, API tokens, the
admin change log, the login throttle's failures), found in every
``tables.py`` under :mod:`portal.platform`.

Values keep their type exactly: integers, booleans and NULL as JSON's own,
timestamps as ISO 8601 with microseconds (in UTC with its ``+00:00`` offset
when the column has a time zone), text as is (non-ASCII kept), JSON columns
as JSON, bytes in base64, decimals as strings.
"""

from portal.platform.datatransfer.catalogue import PLATFORM, DataTables, TransferError, data_tables
from portal.platform.datatransfer.dumping import dump
from portal.platform.datatransfer.loading import LoadResult, Record, load, parse

__all__ = [
    "PLATFORM",
    "DataTables",
    "LoadResult",
    "Record",
    "TransferError",
    "data_tables",
    "dump",
    "load",
    "parse",
]
