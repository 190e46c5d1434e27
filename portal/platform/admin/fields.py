"""Form fields from SQLAlchemy columns: the input kind, its limits, and text <-> value.

Every value travels as text between the database and the browser: ``to_text``
fills an input, ``parse`` turns what was posted back into a value or an
error message. Date-times are shown and entered in UTC.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa

from portal.platform.admin.options import AdminTable, Inline

__all__ = [
    "DATETIME_FORMAT",
    "DEFAULT",
    "REQUIRED",
    "Field",
    "Kind",
    "column_field",
    "form_fields",
    "inline_fields",
    "parse",
    "referenced_table",
    "to_display",
    "to_json",
    "to_text",
]

Kind = Literal[
    "integer",
    "decimal",
    "text",
    "textarea",
    "boolean",
    "datetime",
    "date",
    "choice",
    "fk",
    "password",
    "other",
]

#: How a date-time is written in an input (``datetime-local``, seconds included).
DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
_DATETIME_INPUT = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2})?$")
REQUIRED = "This field is required."


@dataclass(frozen=True, slots=True)
class Field:
    """One input of a generated form."""

    name: str
    label: str
    kind: Kind
    required: bool
    readonly: bool = False
    max_length: int | None = None
    help: str = ""
    #: Filled in on the add form.
    initial: Any = None
    #: Allowed values of an enumerated text column.
    choices: tuple[str, ...] = ()
    #: For ``fk``: the referenced table.
    references: sa.Table | None = None
    #: The column may hold NULL (a blank input stores NULL).
    nullable: bool = False
    #: The database fills it in when left out (a blank input on the add form).
    has_default: bool = False
    #: Integers (and ids) must lie in ``[-bound, bound)``.
    bound: int = 2**31
    #: A date-time column with a time zone (entered in UTC) or without one.
    timezone: bool = True


def referenced_table(column: sa.Column) -> sa.Table | None:
    """The table a foreign-key column points at."""
    for key in column.foreign_keys:
        return key.column.table
    return None


def _kind(column: sa.Column) -> Kind:
    kind = column.type
    if column.foreign_keys:
        return "fk"
    if isinstance(kind, sa.Boolean):
        return "boolean"
    if isinstance(kind, sa.Integer):
        return "integer"
    if isinstance(kind, sa.Numeric):
        return "decimal"
    if isinstance(kind, sa.Enum):
        return "choice"
    if isinstance(kind, sa.String):
        return "text" if kind.length is not None and not isinstance(kind, sa.Text) else "textarea"
    if isinstance(kind, sa.DateTime):
        return "datetime"
    if isinstance(kind, sa.Date):
        return "date"
    return "other"


def _bound(column: sa.Column) -> int:
    """Half the range of an integer column (or of the id a foreign key holds)."""
    kind = column.type
    for key in column.foreign_keys:
        kind = key.column.type
    if isinstance(kind, sa.SmallInteger):
        return 2**15
    if isinstance(kind, sa.BigInteger):
        return 2**63
    return 2**31


def _server_initial(column: sa.Column) -> Any:
    """The value a server default gives, when it is a constant the form can show."""
    default = column.server_default
    arg = getattr(default, "arg", None)
    if isinstance(arg, sa.sql.elements.True_):
        return True
    if isinstance(arg, sa.sql.elements.False_):
        return False
    if isinstance(arg, str) and _kind(column) in (
        "integer",
        "decimal",
        "text",
        "textarea",
        "choice",
    ):
        return arg
    return None


def column_field(
    column: sa.Column,
    label: str,
    *,
    readonly: bool = False,
    help_text: str = "",
    initial: Any = None,
) -> Field:
    """The input for *column*: its kind from the type, its rules from the schema."""
    kind = _kind(column)
    has_default = column.server_default is not None or column.default is not None
    length = getattr(column.type, "length", None)
    return Field(
        name=column.name,
        label=label,
        kind=kind,
        # A checkbox always has a value (unchecked is false).
        required=not column.nullable and kind != "boolean",
        readonly=readonly or kind == "other",
        max_length=length if kind == "text" else None,
        help=help_text,
        initial=initial if initial is not None else _server_initial(column),
        choices=tuple(column.type.enums) if kind == "choice" else (),
        references=referenced_table(column),
        nullable=bool(column.nullable),
        has_default=has_default,
        bound=_bound(column),
        timezone=bool(getattr(column.type, "timezone", True)),
    )


def form_fields(admin: AdminTable, *, adding: bool) -> list[Field]:
    """The fields of *admin*'s add or change form, in table order.

    The primary key and read-only columns are shown on the change form only;
    hidden columns (excluded, password hashes, stored secrets) never.
    """
    fields = []
    for column in admin.table.c:
        name = column.name
        if name in admin.hidden:
            continue
        readonly = (
            name == "id" or name in admin.readonly or (not adding and name in admin.create_only)
        )
        if adding and readonly:
            continue
        make_initial = admin.initial.get(name)
        fields.append(
            column_field(
                column,
                admin.label_of(name),
                readonly=readonly or (not admin.can_change and not adding),
                help_text=admin.help_texts.get(name, ""),
                initial=make_initial() if adding and make_initial is not None else None,
            )
        )
    return fields


def inline_fields(inline: Inline) -> list[Field]:
    """The fields of one row of an inline."""
    return [column_field(inline.table.c[name], inline.label_of(name)) for name in inline.fields]


def to_text(field: Field, value: Any) -> str:
    """*value* as an input holds it."""
    if value is None:
        return ""
    if field.kind == "boolean":
        return "on" if value else ""
    if field.kind == "datetime" and isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return str(value.strftime(DATETIME_FORMAT))
    if field.kind == "date" and isinstance(value, dt.date):
        return value.isoformat()
    if field.kind == "other":
        return json.dumps(to_json(value), ensure_ascii=False)
    return str(value)


def to_display(value: Any) -> str:
    """*value* as a list or a read-only field shows it."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def to_json(value: Any) -> Any:
    """*value* as JSON can hold it, for the change log."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    return str(value)


class _Default:
    """Marks an input left blank so the database's default applies."""

    def __repr__(self) -> str:
        return "DEFAULT"


#: A blank add-form input for a column with a default: leave the column out.
DEFAULT: Any = _Default()


def parse(field: Field, text: str, *, adding: bool) -> tuple[Any, str | None]:
    """The value *text* stands for, or an error message.

    Returns ``(value, None)``, or ``(None, message)``. A blank optional input
    is NULL, or left to the database's default on the add form (the value
    is then :data:`DEFAULT`).
    """
    if field.kind == "boolean":
        return text != "", None
    cleaned = text.strip()
    if "\x00" in cleaned:
        return None, "This value must not contain NUL characters."
    if not cleaned:
        if adding and field.has_default:
            return DEFAULT, None
        if field.required:
            return None, REQUIRED
        return None, None
    return _PARSERS[field.kind](field, cleaned)


def _integer(field: Field, text: str) -> tuple[Any, str | None]:
    try:
        value = int(text)
    except ValueError:
        return None, "Enter a whole number."
    if not -field.bound <= value < field.bound:
        return None, f"Enter a number between {-field.bound} and {field.bound - 1}."
    return value, None


def _decimal(field: Field, text: str) -> tuple[Any, str | None]:
    try:
        value = decimal.Decimal(text)
    except decimal.InvalidOperation:
        return None, "Enter a number."
    if not value.is_finite():
        return None, "Enter a number."
    return value, None


def _text(field: Field, text: str) -> tuple[Any, str | None]:
    if field.max_length is not None and len(text) > field.max_length:
        return None, (
            f"Ensure this value has at most {field.max_length} characters (it has {len(text)})."
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return None, "Enter valid Unicode text."
    return text, None


def _choice(field: Field, text: str) -> tuple[Any, str | None]:
    if text not in field.choices:
        return None, "Select one of the listed values."
    return text, None


def _datetime(field: Field, text: str) -> tuple[Any, str | None]:
    match = _DATETIME_INPUT.match(text)
    message = "Enter a date and time in UTC as YYYY-MM-DD HH:MM (seconds optional)."
    if match is None:
        return None, message
    date, time, seconds = match.groups()
    try:
        value = dt.datetime.fromisoformat(f"{date}T{time}{seconds or ':00'}")
    except ValueError:
        return None, message
    return (value.replace(tzinfo=dt.UTC) if field.timezone else value), None


def _date(field: Field, text: str) -> tuple[Any, str | None]:
    try:
        return dt.date.fromisoformat(text), None
    except ValueError:
        return None, "Enter a date as YYYY-MM-DD."


def _fk(field: Field, text: str) -> tuple[Any, str | None]:
    value, error = _integer(field, text)
    if error is not None:
        return None, "Select a valid choice."
    return value, None


def _unsupported(field: Field, text: str) -> tuple[Any, str | None]:
    return None, "This field cannot be edited here."


_PARSERS = {
    "integer": _integer,
    "decimal": _decimal,
    "text": _text,
    "textarea": _text,
    "choice": _choice,
    "datetime": _datetime,
    "date": _date,
    "fk": _fk,
    "password": _text,
    "other": _unsupported,
}
