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

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import heapq
import importlib
import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

import psycopg2
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from portal.platform.errors import PortalError
from portal.platform.registry import AppSpec

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

#: The name the platform's own tables go by (``platform.users``).
PLATFORM: Final = "platform"


class TransferError(PortalError):
    """A dump cannot be written or a file cannot be loaded; the message says which record."""


@dataclass(frozen=True, slots=True)
class DataTables:
    """Every table that can be dumped, by ``app.table`` label, in a foreign-key-safe order."""

    #: Label to table, dependencies first.
    tables: Mapping[str, sa.Table]
    #: Owner (an app's name, or :data:`PLATFORM`) to its labels.
    owners: Mapping[str, tuple[str, ...]]

    def select(self, names: Sequence[str] = (), exclude: Sequence[str] = ()) -> list[str]:
        """The labels *names* pick (every table when empty) minus *exclude*, in dump order.

        A name is ``APP`` (all its tables) or ``APP.TABLE``; an unknown one is a
        :class:`TransferError` naming it.
        """
        chosen = set(self._expand(names)) if names else set(self.tables)
        chosen -= set(self._expand(exclude))
        return [label for label in self.tables if label in chosen]

    def _expand(self, names: Sequence[str]) -> list[str]:
        labels: list[str] = []
        for name in names:
            owner, dot, table = name.partition(".")
            if owner not in self.owners:
                known = ", ".join(sorted(self.owners))
                raise TransferError(f"no installed app named {owner!r} (known: {known})")
            if not dot:
                labels.extend(self.owners[owner])
            elif name in self.owners[owner]:
                labels.append(name)
            else:
                tables = ", ".join(label.partition(".")[2] for label in self.owners[owner])
                raise TransferError(
                    f"app {owner!r} has no table {table!r} (its tables: {tables or 'none'})"
                )
        return labels


def data_tables(apps: Iterable[AppSpec]) -> DataTables:
    """The platform's tables and those of every app in *apps*."""
    owned: dict[str, list[sa.Table]] = {PLATFORM: _platform_tables()}
    for spec in apps:
        if spec.name in owned:
            raise TransferError(
                f"app {spec.name!r} has the name of the platform's tables: rename the app"
            )
        owned[spec.name] = [] if spec.metadata is None else list(spec.metadata.sorted_tables)
    labelled: dict[str, sa.Table] = {}
    seen: set[str] = set()
    for owner, tables in owned.items():
        for table in tables:
            # One table, one label: the first owner keeps a table two metadata share.
            if table.name not in seen:
                seen.add(table.name)
                labelled[f"{owner}.{table.name}"] = table
    order = _dependency_order(labelled)
    return DataTables(
        tables={label: labelled[label] for label in order},
        owners={
            owner: tuple(label for label in order if label.partition(".")[0] == owner)
            for owner in owned
        },
    )


def _platform_tables() -> list[sa.Table]:
    """Every table of every ``sa.MetaData`` in the platform's ``tables.py`` modules."""
    from portal import platform

    root = Path(platform.__file__).parent
    found: dict[str, sa.Table] = {}
    # Walked rather than listed, so a table module the platform grows (or moves
    # into a subpackage) is dumped without anyone remembering to add it here.
    for path in sorted(root.rglob("tables.py")):
        parts = path.relative_to(root).with_suffix("").parts
        module = importlib.import_module(".".join((platform.__name__, *parts)))
        for value in vars(module).values():
            if isinstance(value, sa.MetaData):
                found.update(value.tables)
    return list(found.values())


def _dependency_order(tables: Mapping[str, sa.Table]) -> list[str]:
    """Labels with each table after those it references; ties (and cycles) by label."""
    by_name = {table.name: label for label, table in tables.items()}
    needs: dict[str, set[str]] = {}
    for label, table in tables.items():
        # target_fullname is the "table.column" string, so a foreign key into
        # another MetaData (an app's table pointing at users) counts as well.
        referenced = {fk.target_fullname.rpartition(".")[0] for fk in table.foreign_keys}
        needs[label] = {by_name[name] for name in referenced if name in by_name} - {label}
    users: dict[str, set[str]] = {label: set() for label in tables}
    for label, required in needs.items():
        for other in required:
            users[other].add(label)
    ready = [label for label, required in needs.items() if not required]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        label = heapq.heappop(ready)
        order.append(label)
        for user in users[label]:
            needs[user].discard(label)
            if not needs[user]:
                heapq.heappush(ready, user)
    # A cycle of foreign keys has no safe order: its tables go last, by label.
    order.extend(sorted(label for label in tables if label not in order))
    return order


# -- values ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Codec:
    #: A database value (never None) to its JSON value.
    encode: Callable[[Any], Any]
    #: A JSON value (never None) to a database value; ValueError says why not.
    decode: Callable[[Any], Any]


def _expect(kind: type | tuple[type, ...], what: str) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        # bool is an int to Python, never to a column.
        if isinstance(value, bool) is not (kind is bool) or not isinstance(value, kind):
            raise ValueError(f"expected {what}, got {json.dumps(value, ensure_ascii=False)}")

    return check


def _integer(bits: int) -> _Codec:
    check = _expect(int, "an integer")
    bound = 2 ** (bits - 1)

    def decode(value: Any) -> int:
        check(value)
        if not -bound <= value < bound:
            raise ValueError(f"{value} is out of range for a {bits}-bit integer")
        return int(value)

    return _Codec(int, decode)


def _string(column_type: sa.String) -> _Codec:
    check = _expect(str, "a string")

    def decode(value: Any) -> str:
        check(value)
        if column_type.length is not None and len(value) > column_type.length:
            raise ValueError(f"longer than {column_type.length} characters")
        if "\x00" in value:
            raise ValueError("PostgreSQL text cannot hold the NUL character")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("not valid unicode (a lone surrogate)") from None
        if isinstance(column_type, sa.Enum) and value not in column_type.enums:
            raise ValueError(f"{value!r} is not one of {', '.join(column_type.enums)}")
        return str(value)

    return _Codec(str, decode)


def _timestamp(with_zone: bool) -> _Codec:
    check = _expect(str, "an ISO 8601 timestamp")

    def encode(value: dt.datetime) -> str:
        if with_zone:
            # UTC whatever the session's TimeZone, so dumps compare byte for byte.
            value = value.astimezone(dt.UTC)
        return value.isoformat(timespec="microseconds")

    def decode(value: Any) -> dt.datetime:
        check(value)
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO 8601 timestamp") from None
        if with_zone and parsed.tzinfo is None:
            raise ValueError(f"{value!r} has no UTC offset")
        if not with_zone and parsed.tzinfo is not None:
            raise ValueError(f"{value!r} has a UTC offset; the column has no time zone")
        return parsed

    return _Codec(encode, decode)


def _iso(kind: type[dt.date] | type[dt.time], what: str) -> _Codec:
    check = _expect(str, what)

    def decode(value: Any) -> Any:
        check(value)
        try:
            return kind.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not {what}") from None

    return _Codec(lambda value: value.isoformat(), decode)


def _numeric() -> _Codec:
    check = _expect(str, "a decimal number as a string")

    def decode(value: Any) -> decimal.Decimal:
        check(value)
        try:
            return decimal.Decimal(value)
        except decimal.InvalidOperation:
            raise ValueError(f"{value!r} is not a decimal number") from None

    # A string, as JSON numbers are read back as binary floats.
    return _Codec(str, decode)


def _float() -> _Codec:
    check = _expect((int, float), "a number")

    def decode(value: Any) -> float:
        check(value)
        return float(value)

    return _Codec(float, decode)


def _binary() -> _Codec:
    check = _expect(str, "base64 text")

    def decode(value: Any) -> bytes:
        check(value)
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error:
            raise ValueError("not valid base64") from None

    return _Codec(lambda value: base64.b64encode(bytes(value)).decode("ascii"), decode)


def _uuid(as_uuid: bool) -> _Codec:
    check = _expect(str, "a UUID")

    def decode(value: Any) -> Any:
        check(value)
        try:
            parsed = uuid.UUID(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a UUID") from None
        return parsed if as_uuid else str(parsed)

    return _Codec(str, decode)


def _same(value: Any) -> Any:
    return value


def _boolean() -> _Codec:
    check = _expect(bool, "true or false")

    def decode(value: Any) -> bool:
        check(value)
        return bool(value)

    return _Codec(bool, decode)


_JSON: Final = _Codec(_same, _same)


def _codec(column: sa.Column[Any]) -> _Codec:
    """How *column*'s values are written and read; unknown types are refused, named."""
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return _boolean()
    if isinstance(kind, sa.BigInteger):
        return _integer(64)
    if isinstance(kind, sa.SmallInteger):
        return _integer(16)
    if isinstance(kind, sa.Integer):
        return _integer(32)
    if isinstance(kind, sa.Float):
        return _float()
    if isinstance(kind, sa.Numeric):
        return _numeric()
    if isinstance(kind, sa.DateTime):
        return _timestamp(bool(kind.timezone))
    if isinstance(kind, sa.Date):
        return _iso(dt.date, "an ISO 8601 date")
    if isinstance(kind, sa.Time) and not kind.timezone:
        return _iso(dt.time, "an ISO 8601 time")
    if isinstance(kind, sa.JSON):
        return _JSON
    if isinstance(kind, postgresql.UUID):
        return _uuid(bool(kind.as_uuid))
    if isinstance(kind, sa.String):
        return _string(kind)
    if isinstance(kind, sa.LargeBinary):
        return _binary()
    raise TransferError(
        f"column {column.table.name}.{column.name} has type {kind}, which dumpdata cannot write yet"
    )


# -- dumping ----------------------------------------------------------------------------


async def dump(conn: Any, data: DataTables, labels: Sequence[str], out: IO[str]) -> int:
    """Write the rows of the tables *labels* name to *out* as a dump; the number of rows."""
    codecs = {label: _codecs(data.tables[label]) for label in labels}
    out.write("[")
    # One snapshot for every table, so rows written meanwhile cannot leave a
    # choice in the dump whose question is not.
    async with conn.begin(isolation_level="REPEATABLE READ", readonly=True):
        count = await _dump_tables(conn, data, labels, codecs, out)
    out.write("\n]\n" if count else "]\n")
    return count


async def _dump_tables(
    conn: Any,
    data: DataTables,
    labels: Sequence[str],
    codecs: Mapping[str, Mapping[str, _Codec]],
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


def _codecs(table: sa.Table) -> dict[str, _Codec]:
    return {column.name: _codec(column) for column in table.columns}


# -- loading ----------------------------------------------------------------------------


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
    codecs: dict[str, dict[str, _Codec]] = {}
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
    position: int, raw: Any, data: DataTables, codecs: dict[str, dict[str, _Codec]]
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
        codecs[label] = _codecs(table)
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


async def load(conn: Any, data: DataTables, records: Sequence[Record]) -> LoadResult:
    """Insert *records* in one transaction, updating rows whose primary key exists.

    On any error nothing is written and a :class:`TransferError` names the
    record. Afterwards each loaded table's id sequence is moved past its
    largest id, so the next row inserted the usual way does not collide.
    """
    inserted = updated = 0
    loaded: list[str] = []
    async with conn.begin():
        for record in records:
            table = data.tables[record.label]
            if not loaded or loaded[-1] != record.label:
                loaded.append(record.label)
            try:
                result = await conn.execute(_upsert(table, record.values))
                row = await result.first()
            except psycopg2.Error as exc:
                raise TransferError(f"{record.describe(table)}: {_reason(exc)}") from exc
            if row is None:
                continue  # only a key, already there: nothing to change
            if row[0]:
                inserted += 1
            else:
                updated += 1
        for label in loaded:
            await _reset_sequence(conn, data.tables[label])
    return LoadResult(inserted=inserted, updated=updated, tables=tuple(loaded))


def _upsert(table: sa.Table, values: Mapping[str, Any]) -> Any:
    statement = postgresql.insert(table).values(dict(values))
    keys = [column.name for column in table.primary_key]
    rest = {name: statement.excluded[name] for name in values if name not in keys}
    if not keys:
        upsert = statement
    elif rest:
        upsert = statement.on_conflict_do_update(index_elements=keys, set_=rest)
    else:
        upsert = statement.on_conflict_do_nothing(index_elements=keys)
    # xmax is 0 on a row version this statement inserted, and its own
    # transaction id on one it updated: PostgreSQL's one-statement way to tell.
    return upsert.returning(sa.literal_column("xmax") == 0)


def _reason(exc: psycopg2.Error) -> str:
    diag = exc.diag
    reason = diag.message_primary or str(exc).strip()
    return f"{reason} ({diag.message_detail})" if diag.message_detail else reason


async def _reset_sequence(conn: Any, table: sa.Table) -> None:
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
