"""Writing a dump: one snapshot, one record per line, in a stable order."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import IO

import psycopg2
import sqlalchemy as sa

from portal.platform.datatransfer.catalogue import DataTables, TransferError
from portal.platform.datatransfer.values import Codec, table_codecs
from portal.platform.db.engine import Connection

__all__ = ["dump"]


async def dump(conn: Connection, data: DataTables, labels: Sequence[str], out: IO[str]) -> int:
    """Write the rows of the tables *labels* name to *out* as a dump; the number of rows."""
    codecs = {label: table_codecs(data.tables[label]) for label in labels}
    out.write("[")
    # One snapshot for every table, so rows written meanwhile cannot leave a
    # choice in the dump whose question is not.
    async with conn.begin(isolation_level="REPEATABLE READ", readonly=True):
        count = await _dump_tables(conn, data, labels, codecs, out)
    out.write("\n]\n" if count else "]\n")
    return count


async def _dump_tables(
    conn: Connection,
    data: DataTables,
    labels: Sequence[str],
    codecs: Mapping[str, Mapping[str, Codec]],
    out: IO[str],
) -> int:
    count = 0
    for label in labels:
        table = data.tables[label]
        order = list(table.primary_key.columns) or list(table.columns)
        try:
            rows = await conn.execute(sa.select(table).order_by(*order))
        except psycopg2.errors.UndefinedTable as exc:
            raise TransferError(f"table {label} does not exist: run migrate") from exc
        async for row in rows:
            fields = {
                name: None if row[name] is None else codec.encode(row[name])
                for name, codec in codecs[label].items()
            }
            record = {"fields": fields, "table": label}
            out.write(",\n" if count else "\n")
            out.write(json.dumps(record, ensure_ascii=False, sort_keys=True, allow_nan=False))
            count += 1
    return count
