"""Reading a dump: check every record, then load them all in one transaction."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import psycopg2
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from portal.platform.datatransfer.catalogue import DataTables, TransferError
from portal.platform.datatransfer.values import Codec, table_codecs
from portal.platform.db.engine import Connection

__all__ = ["LoadResult", "Record", "load", "parse"]


@dataclass(frozen=True, slots=True)
class Record:
    """One checked record of a file: where it was, its table, its values ready to insert."""

    #: 1-based place in the file, for messages.
    position: int
    label: str
    values: Mapping[str, Any]

    def describe(self, table: sa.Table) -> str:
        """``record 3 (polls.choice id=7)``: how messages name this record."""
        key = " ".join(
            f"{column.name}={self.values[column.name]!r}" for column in table.primary_key
        )
        return f"record {self.position} ({self.label}{' ' + key if key else ''})"


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What a load did."""

    inserted: int
    updated: int
    #: Labels of the tables loaded, in the order they were.
    tables: tuple[str, ...]


def parse(text: str | bytes, data: DataTables) -> list[Record]:
    """Check a whole dump and return its records in a foreign-key-safe order.

    Every problem is a :class:`TransferError` naming the record (its place in
    the file, its table and key) and why: the shape, an unknown table or
    column, a value of the wrong type, a missing required column, a primary
    key given twice.
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TransferError(f"not JSON: {exc}") from None
    except UnicodeDecodeError as exc:
        raise TransferError(f"not UTF-8 text: {exc}") from None
    if not isinstance(document, list):
        raise TransferError("not a dump: expected a JSON list of records")
    rank = {label: index for index, label in enumerate(data.tables)}
    codecs: dict[str, dict[str, Codec]] = {}
    keys: dict[tuple[str, tuple[Any, ...]], int] = {}
    records = []
    for position, raw in enumerate(document, start=1):
        record = _parse_record(position, raw, data, codecs)
        table = data.tables[record.label]
        key = tuple(record.values[column.name] for column in table.primary_key)
        if key and (first := keys.setdefault((record.label, key), position)) != position:
            raise TransferError(
                f"{record.describe(table)}: duplicate key, record {first} has the same"
            )
        records.append(record)
    # Stable: within a table the file's order stands.
    records.sort(key=lambda record: rank[record.label])
    return records


def _parse_record(
    position: int, raw: Any, data: DataTables, codecs: dict[str, dict[str, Codec]]
) -> Record:
    where = f"record {position}"
    if not isinstance(raw, dict) or set(raw) != {"table", "fields"}:
        raise TransferError(f'{where}: expected {{"table": "app.table", "fields": {{...}}}}')
    label, fields = raw["table"], raw["fields"]
    if not isinstance(label, str) or label not in data.tables:
        raise TransferError(f"{where}: unknown table {label!r}")
    if not isinstance(fields, dict):
        raise TransferError(f"{where} ({label}): fields must be an object")
    table = data.tables[label]
    if label not in codecs:
        codecs[label] = table_codecs(table)
    where = f"{where} ({label})"
    values: dict[str, Any] = {}
    for name, value in fields.items():
        if name not in codecs[label]:
            raise TransferError(f"{where}: unknown column {name!r}")
        column = table.columns[name]
        if value is None:
            if not column.nullable:
                raise TransferError(f"{where}: {name} cannot be null")
            # sa.null(), as a JSON column would store None as JSON's 'null'.
            values[name] = sa.null()
            continue
        try:
            values[name] = codecs[label][name].decode(value)
        except ValueError as exc:
            raise TransferError(f"{where}: {name}: {exc}") from None
    for column in table.columns:
        if column.name not in values and _required(column):
            raise TransferError(f"{where}: {column.name} is missing")
    return Record(position, label, values)


def _required(column: sa.Column[Any]) -> bool:
    """Whether a record must give *column*: its key, or a NOT NULL column with no default."""
    if column.primary_key:
        # Rows are matched by primary key (an existing one is updated).
        return True
    return not column.nullable and column.server_default is None and column.default is None


async def load(conn: Connection, data: DataTables, records: Sequence[Record]) -> LoadResult:
    """Insert *records* in one transaction, updating rows whose primary key exists.

    On any error nothing is written and a :class:`TransferError` names the
    record. Afterwards each loaded table's id sequence is moved past its
    largest id, so the next row inserted the usual way does not collide.
    """
    inserted = updated = 0
    loaded: list[str] = []
    async with conn.begin():
        for batch in _batches(records, data):
            if not loaded or loaded[-1] != batch[0].label:
                loaded.append(batch[0].label)
            flags = await _load_batch(conn, data.tables[batch[0].label], batch)
            inserted += sum(flags)
            updated += len(flags) - sum(flags)
        for label in loaded:
            await _reset_sequence(conn, data.tables[label])
    return LoadResult(inserted=inserted, updated=updated, tables=tuple(loaded))


#: Bind parameters per statement, well under PostgreSQL's 65,535.
_PARAMETERS_PER_BATCH: Final = 20_000


def _batches(records: Sequence[Record], data: DataTables) -> Iterator[list[Record]]:
    """Runs of records of one table with the same columns, each one multi-row INSERT."""
    batch: list[Record] = []
    for record in records:
        if batch and (
            record.label != batch[0].label
            or record.values.keys() != batch[0].values.keys()
            or (len(batch) + 1) * len(record.values) > _PARAMETERS_PER_BATCH
        ):
            yield batch
            batch = []
        batch.append(record)
    if batch:
        yield batch


async def _load_batch(conn: Connection, table: sa.Table, batch: Sequence[Record]) -> list[bool]:
    """Upsert *batch*; for each row written, whether it is new. An error names its record."""
    # One statement per batch (one row each would take a millisecond a row); a
    # savepoint lets a refused batch be replayed a row at a time to name the
    # record at fault, which the database's own message does not.
    savepoint = await conn.begin_nested()
    try:
        result = await conn.execute(_upsert(table, [record.values for record in batch]))
        flags = [bool(row[0]) async for row in result]
    except psycopg2.Error:
        await savepoint.rollback()
    else:
        await savepoint.commit()
        return flags
    for record in batch:
        try:
            await conn.execute(_upsert(table, [record.values]))
        except psycopg2.Error as exc:
            raise TransferError(f"{record.describe(table)}: {_reason(exc)}") from exc
    # Unreachable unless the rows clash only when written together.
    raise TransferError(f"{batch[0].describe(table)} and the next: refused together")


def _upsert(table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> Any:
    statement = postgresql.insert(table).values([dict(values) for values in rows])
    keys = [column.name for column in table.primary_key]
    rest = {name: statement.excluded[name] for name in rows[0] if name not in keys}
    if not keys:
        upsert = statement
    elif rest:
        upsert = statement.on_conflict_do_update(index_elements=keys, set_=rest)
    else:
        # Only a key, already there: nothing to change, and no row returned.
        upsert = statement.on_conflict_do_nothing(index_elements=keys)
    # xmax is 0 on a row version this statement inserted, and its own
    # transaction id on one it updated: PostgreSQL's one-statement way to tell.
    return upsert.returning(sa.literal_column("xmax") == 0)


def _reason(exc: psycopg2.Error) -> str:
    diag = exc.diag
    reason = diag.message_primary or str(exc).strip()
    return f"{reason} ({diag.message_detail})" if diag.message_detail else reason


async def _reset_sequence(conn: Connection, table: sa.Table) -> None:
    """Move *table*'s id sequence past its largest id (never back: ids stay unique in time)."""
    for column in table.primary_key:
        if not isinstance(column.type, sa.Integer):
            continue
        found = sa.select(
            sa.cast(
                sa.func.pg_get_serial_sequence(sa.func.quote_ident(table.name), column.name),
                postgresql.REGCLASS,
            ).label("sequence")
        ).subquery()
        largest = sa.select(sa.func.max(column)).scalar_subquery()
        # GREATEST skips NULL: a sequence never used has no last value.
        target = sa.func.greatest(largest, sa.func.pg_sequence_last_value(found.c.sequence))
        await conn.execute(
            sa.select(sa.func.setval(found.c.sequence, target)).where(found.c.sequence.isnot(None))
        )
