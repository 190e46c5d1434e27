"""How an app declares its tables to the admin: data, never view code.

An app lists :class:`AdminTable` records in its own ``admin.py`` and passes
them to its ``AppSpec(admin=...)``; the admin builds every page from them and
from the SQLAlchemy columns::

    question_admin = AdminTable(
        question,
        label="Questions",
        singular="question",
        list_display=("id", "question_text", "pub_date"),
        search=("question_text",),
        filters=("pub_date",),
        inlines=(Inline(choice, "question_id", ("choice_text", "votes"), label="Choices"),),
    )

A mistake (a column the table does not have, a filter on a text column) stops
start-up with a :class:`ConfigurationError` naming the table and the column.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from portal.platform.exceptions import ConfigurationError

__all__ = [
    "DELETE",
    "Action",
    "AdminTable",
    "GeneratedSecret",
    "Inline",
    "PasswordHash",
    "column_label",
    "filter_kind",
    "regular_plural",
]


def column_label(name: str) -> str:
    """The label a column gets unless one is declared: ``pub_date`` -> ``Pub date``."""
    return name.replace("_", " ").capitalize()


def regular_plural(noun: str) -> str:
    """English's regular plural of *noun* (of its last word): entry → entries, box → boxes."""
    if noun.endswith(("s", "x", "z", "ch", "sh")):
        return f"{noun}es"
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "i", "o", "u", ""):
        return f"{noun[:-1]}ies"
    return f"{noun}s"


def filter_kind(column: sa.Column) -> str | None:
    """``boolean``, ``foreign key``, ``choice`` or ``date`` for a column a list can filter on."""
    if column.foreign_keys:
        return "foreign key"
    if isinstance(column.type, sa.Boolean):
        return "boolean"
    if isinstance(column.type, sa.Enum):
        return "choice"
    if isinstance(column.type, sa.Date | sa.DateTime):
        return "date"
    return None


def _check_columns(table: sa.Table, option: str, names: Iterable[str]) -> None:
    for name in names:
        if name not in table.c:
            raise ConfigurationError(
                f"admin for table {table.name!r}: {option} names {name!r}, "
                f"which is not a column of {table.name!r}"
            )


def _check_id(table: sa.Table) -> None:
    pk = list(table.primary_key.columns)
    if len(pk) != 1 or pk[0].name != "id" or not isinstance(pk[0].type, sa.Integer):
        raise ConfigurationError(
            f"admin for table {table.name!r}: the admin needs an integer primary key named 'id'"
        )


@dataclass(frozen=True, slots=True)
class Inline:
    """Child rows edited on their parent's page (a question's choices)."""

    table: sa.Table
    #: The child's column referencing the parent's ``id``.
    fk_column: str
    #: The child's columns shown in each row, in order.
    fields: tuple[str, ...]
    #: Plural, for the heading: ``"Choices"``.
    label: str
    #: Singular, for messages and the history: ``"choice"``.
    singular: str = ""
    #: Blank rows offered for adding children.
    extra: int = 3
    labels: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_id(self.table)
        _check_columns(self.table, "Inline fk_column", [self.fk_column])
        _check_columns(self.table, "Inline fields", self.fields)
        if self.fk_column in self.fields:
            raise ConfigurationError(
                f"admin inline {self.table.name!r}: fields must not include the parent's "
                f"column {self.fk_column!r} (it is set to the parent)"
            )
        if not self.singular:
            object.__setattr__(self, "singular", self.table.name.replace("_", " "))

    def label_of(self, name: str) -> str:
        return self.labels.get(name) or column_label(name)


@dataclass(frozen=True, slots=True)
class Action:
    """A change applied to every selected row at once, after a confirmation page.

    *values* maps columns to new values or to SQL expressions over the table's
    columns (``{"revoked_at": sa.func.coalesce(t.c.revoked_at, sa.func.now())}``).
    """

    #: In the URL and the form (``?action=revoke``); ``delete`` is built in.
    name: str
    #: In the action menu: ``"Revoke selected API tokens"``.
    label: str
    #: The past tense for the message afterwards: ``"Revoked"``.
    done: str
    values: Mapping[str, Any]


#: The built-in bulk action of every table that allows deleting.
DELETE = Action("delete", "Delete selected", "Deleted", {})


@dataclass(frozen=True, slots=True)
class PasswordHash:
    """A column holding a password hash: set through two password inputs, never shown.

    The form requires the password when adding a row; when changing one, blank
    inputs keep the current hash.
    """

    column: str
    hasher: Callable[[str], Awaitable[str]]
    min_length: int = 8
    label: str = "Password"


@dataclass(frozen=True, slots=True)
class GeneratedSecret:
    """A column holding the stored form of a secret the admin makes on create.

    The secret is shown once, on the page after the row is created, and
    never again; the column itself is never shown.
    """

    column: str
    #: Returns ``(secret to show once, value to store)``.
    generate: Callable[[], tuple[str, str]]
    label: str = "Secret"


@dataclass(frozen=True, slots=True)
class AdminTable:
    """One table in the admin: what its list shows and how its form behaves."""

    table: sa.Table
    #: Plural, for headings and the dashboard: ``"Questions"``.
    label: str
    #: Singular, for buttons and messages: ``"question"``.
    singular: str
    #: The columns of the list page, in order; each is sortable.
    list_display: tuple[str, ...]
    #: Text columns the list's search box looks in (case-insensitive substring).
    search: tuple[str, ...] = ()
    #: Boolean, foreign-key, choice (``sa.Enum``) and date columns the list can be filtered on.
    filters: tuple[str, ...] = ()
    #: The list's default order: column names, ``-`` for descending.
    ordering: tuple[str, ...] = ("-id",)
    #: Shown on the change page but never editable.
    readonly: tuple[str, ...] = ()
    #: Editable when adding a row, read-only afterwards (a token's user).
    create_only: tuple[str, ...] = ()
    #: Never shown anywhere.
    exclude: tuple[str, ...] = ()
    inlines: tuple[Inline, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    help_texts: Mapping[str, str] = field(default_factory=dict)
    #: Values offered on the add form: column -> function returning the value.
    initial: Mapping[str, Callable[[], Any]] = field(default_factory=dict)
    #: The column naming a row (in selects, titles, messages); the first text
    #: column of ``list_display`` unless given.
    title_column: str | None = None
    actions: tuple[Action, ...] = ()
    password: PasswordHash | None = None
    secret: GeneratedSecret | None = None
    can_add: bool = True
    can_change: bool = True
    can_delete: bool = True
    #: Plural, for messages: ``"questions"``; English's regular plural of the
    #: singular unless given (``"entry"`` → ``"entries"``).
    plural: str = ""

    def __post_init__(self) -> None:
        table = self.table
        if not self.plural:
            object.__setattr__(self, "plural", regular_plural(self.singular))
        _check_id(table)
        for option in (
            "list_display",
            "search",
            "filters",
            "readonly",
            "create_only",
            "exclude",
            "labels",
            "help_texts",
            "initial",
        ):
            _check_columns(table, option, getattr(self, option))
        _check_columns(table, "ordering", [name.lstrip("-") for name in self.ordering])
        if not self.list_display:
            raise ConfigurationError(f"admin for table {table.name!r}: list_display is empty")
        for name in self.search:
            if not isinstance(table.c[name].type, sa.String):
                raise ConfigurationError(
                    f"admin for table {table.name!r}: search column {name!r} is not text"
                )
        for name in self.filters:
            if filter_kind(table.c[name]) is None:
                raise ConfigurationError(
                    f"admin for table {table.name!r}: cannot filter on {name!r} "
                    "(only boolean, foreign-key, choice and date columns)"
                )
        for inline in self.inlines:
            keys = inline.table.c[inline.fk_column].foreign_keys
            if not any(key.references(table) for key in keys):
                raise ConfigurationError(
                    f"admin inline {inline.table.name!r}: {inline.fk_column!r} does not "
                    f"reference {table.name!r}.id"
                )
        for action in self.actions:
            if action.name == "delete":
                raise ConfigurationError(
                    f"admin for table {table.name!r}: the action name 'delete' is built in"
                )
            _check_columns(table, f"action {action.name!r}", action.values)
        hidden = [self.password.column] if self.password else []
        hidden += [self.secret.column] if self.secret else []
        _check_columns(table, "password/secret", hidden)
        if self.title_column is None:
            title = next(
                (n for n in self.list_display if isinstance(table.c[n].type, sa.String)), "id"
            )
            object.__setattr__(self, "title_column", title)
        else:
            _check_columns(table, "title_column", [self.title_column])

    @property
    def name(self) -> str:
        """The table's name, as it appears in the admin's URLs."""
        return str(self.table.name)

    @property
    def title(self) -> str:
        """The column naming a row (always set after construction)."""
        return self.title_column or "id"

    @property
    def hidden(self) -> frozenset[str]:
        """Columns never shown: excluded ones and stored secrets."""
        names = set(self.exclude)
        if self.password is not None:
            names.add(self.password.column)
        if self.secret is not None:
            names.add(self.secret.column)
        return frozenset(names)

    def label_of(self, name: str) -> str:
        """The label of column *name* (a password hash's is the password's)."""
        if self.password is not None and name == self.password.column:
            return self.password.label
        return self.labels.get(name) or column_label(name)

    def count(self, number: int) -> str:
        """``1 question``, ``2 questions``, ``100,000 questions``."""
        return f"{number:,} {self.singular if number == 1 else self.plural}"

    def action(self, name: str) -> Action | None:
        """The declared bulk action called *name*, if any."""
        return next((action for action in self.actions if action.name == name), None)
