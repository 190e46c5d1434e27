"""Bound forms: a registered table's fields with what was posted, parsed and checked.

The same objects render the page (each field's text, error and options) and
carry the values to write. Input names are column names; inline rows use
``<table>-<n>-<column>`` (``choice-0-choice_text``), ``<table>-<n>-id``,
``<table>-<n>-DELETE`` and a ``<table>-TOTAL`` count, as Django's formsets do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from portal.platform.admin import queries
from portal.platform.admin.fields import (
    DEFAULT,
    REQUIRED,
    Field,
    form_fields,
    inline_fields,
    parse,
    to_display,
    to_text,
)
from portal.platform.admin.options import AdminTable, Inline
from portal.platform.admin.registry import AdminSite
from portal.platform.db.engine import Connection

__all__ = [
    "INLINE_ROWS",
    "OPTIONS_LIMIT",
    "AdminForm",
    "BoundField",
    "InlineForm",
    "InlineRow",
    "bind",
    "check_references",
    "load_options",
    "posted_ids",
    "unbound",
]

#: A foreign key becomes a number input when its table has more rows than this.
OPTIONS_LIMIT = 500
#: The existing children an inline shows; the rest are in the child table's own list.
INLINE_ROWS = 50
_MAX_INLINE_ROWS = 1000

Row = dict[str, Any]
Form = Mapping[str, Any]


@dataclass(slots=True)
class BoundField:
    """One input as a page shows it."""

    field: Field
    name: str
    text: str = ""
    error: str | None = None
    #: For a read-only field: the value as shown.
    display: str = ""
    #: For a foreign key: ``(id, title)`` of every row, or None for a number input.
    options: list[tuple[int, str]] | None = None

    @property
    def id(self) -> str:
        """The element id: ``id_<column>``, or the input name inside an inline."""
        return self.name if "-" in self.name else f"id_{self.name}"

    @property
    def error_id(self) -> str:
        return f"{self.id}-error"

    @property
    def help_id(self) -> str:
        return f"{self.id}-help"


@dataclass(slots=True)
class InlineRow:
    """One child row of an inline: existing (with an id) or new."""

    prefix: str
    row_id: int | None
    fields: list[BoundField]
    delete: bool = False
    #: Parsed values to write (only changed ones for an existing row).
    values: dict[str, Any] = field(default_factory=dict)
    #: A new row left as offered: nothing to store.
    untouched: bool = False
    #: The row as stored, for an existing one.
    original: Row | None = None

    @property
    def has_errors(self) -> bool:
        return any(bound.error for bound in self.fields)


@dataclass(slots=True)
class InlineForm:
    inline: Inline
    rows: list[InlineRow]
    errors: list[str] = field(default_factory=list)
    #: How many children the parent has in all, shown or not.
    total: int = 0
    #: The child table's admin list filtered to this parent, when it has one.
    all_url: str | None = None

    @property
    def shown(self) -> int:
        """How many existing children the form holds."""
        return sum(row.row_id is not None for row in self.rows)

    @property
    def more(self) -> int:
        """Children the form leaves out (past :data:`INLINE_ROWS`)."""
        return max(self.total - self.shown, 0)

    @property
    def total_name(self) -> str:
        return f"{self.inline.table.name}-TOTAL"


@dataclass(slots=True)
class AdminForm:
    """A whole add or change form, its inlines included."""

    admin: AdminTable
    adding: bool
    fields: list[BoundField]
    password: list[BoundField] = field(default_factory=list)
    inlines: list[InlineForm] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: Parsed values to write (only changed ones when changing a row).
    values: dict[str, Any] = field(default_factory=dict)
    #: The new password, when one was given.
    new_password: str | None = None

    @property
    def valid(self) -> bool:
        return not (
            self.errors
            or any(bound.error for bound in [*self.fields, *self.password])
            or any(
                inline.errors or any(r.has_errors for r in inline.rows) for inline in self.inlines
            )
        )

    def get(self, name: str) -> BoundField | None:
        return next((bound for bound in self.fields if bound.name == name), None)

    def add_error(self, name: str | None, message: str) -> None:
        """Put *message* beside input *name*, or at the top of the form."""
        bound = self.get(name) if name else None
        if bound is not None and not bound.field.readonly:
            bound.error = message
        else:
            self.errors.append(message)


def _password_fields(admin: AdminTable, adding: bool) -> list[BoundField]:
    if admin.password is None:
        return []
    label = admin.password.label
    required = adding
    help_text = (
        f"At least {admin.password.min_length} characters."
        if adding
        else "Leave both blank to keep the current password."
    )
    first = Field("password1", label, "password", required=required, help=help_text)
    second = Field("password2", f"{label} (again)", "password", required=required)
    return [BoundField(first, "password1"), BoundField(second, "password2")]


def _bound(field_: Field, name: str, row: Row | None) -> BoundField:
    value = field_.initial if row is None else row.get(field_.name)
    bound = BoundField(field_, name, text=to_text(field_, value))
    if field_.readonly:
        bound.display = to_display(value)
    return bound


def _inline_row(inline: Inline, index: int, row: Row | None) -> InlineRow:
    prefix = f"{inline.table.name}-{index}"
    fields = [_bound(f, f"{prefix}-{f.name}", row) for f in inline_fields(inline)]
    row_id = None if row is None else int(row["id"])
    return InlineRow(prefix=prefix, row_id=row_id, fields=fields, original=row)


def unbound(
    admin: AdminTable,
    *,
    row: Row | None = None,
    children: Mapping[str, Sequence[Row]] = {},
    totals: Mapping[str, int] = {},
) -> AdminForm:
    """The form as first shown: the add form's initial values, or *row* and its *children*.

    *totals* says how many children each inline's table holds for *row* in all,
    when *children* are only the first of them.
    """
    adding = row is None
    form = AdminForm(
        admin=admin,
        adding=adding,
        fields=[_bound(f, f.name, row) for f in form_fields(admin, adding=adding)],
        password=_password_fields(admin, adding),
    )
    for inline in admin.inlines:
        existing = list(children.get(inline.table.name, ()))
        rows = [_inline_row(inline, i, child) for i, child in enumerate(existing)]
        rows += [_inline_row(inline, len(existing) + i, None) for i in range(inline.extra)]
        total = totals.get(inline.table.name, len(existing))
        form.inlines.append(InlineForm(inline, rows, total=total))
    return form


def posted_ids(admin: AdminTable, post: Form) -> dict[str, list[int]]:
    """The ids of the existing children each inline's posted rows name, by table name.

    The change form shows only the first children; these are the ones to bind
    the post against, however many more the parent has.
    """
    found: dict[str, list[int]] = {}
    for inline in admin.inlines:
        name = inline.table.name
        total_text = str(post.get(f"{name}-TOTAL", "0"))
        total = min(int(total_text), _MAX_INLINE_ROWS) if total_text.isdecimal() else 0
        texts = (str(post.get(f"{name}-{index}-id", "")).strip() for index in range(total))
        # Ten digits at most: int() of a long run of digits is slow, and no id is that long.
        found[name] = [
            int(text) for text in texts if text.isascii() and text.isdecimal() and len(text) <= 10
        ]
    return found


def _posted(post: Form, bound: BoundField) -> str:
    value = post.get(bound.name, "")
    return value if isinstance(value, str) else ""


def _take(bound: BoundField, post: Form, *, adding: bool, old: Row | None) -> tuple[bool, Any]:
    """Read *bound* from *post*; ``(changed, value)``, the error set on *bound*."""
    original = bound.text
    bound.text = _posted(post, bound)
    value, error = parse(bound.field, bound.text, adding=adding)
    if error is not None:
        bound.error = error
        return False, None
    if value is DEFAULT:
        return False, None
    if old is not None and to_text(bound.field, value) == original:
        # Unchanged as far as the input can tell (a time's microseconds, say).
        return False, None
    return True, value


def _bind_password(form: AdminForm, post: Form) -> None:
    if form.admin.password is None:
        return
    first, second = form.password
    text1, text2 = _posted(post, first), _posted(post, second)
    if not text1 and not text2:
        if form.adding:
            first.error = second.error = REQUIRED
        return
    minimum = form.admin.password.min_length
    if len(text1) < minimum:
        first.error = f"The password must be at least {minimum} characters long."
    elif text1 != text2:
        second.error = "The two passwords differ."
    else:
        form.new_password = text1


def _bind_inline(inline_form: InlineForm, post: Form, children: Sequence[Row]) -> None:
    inline = inline_form.inline
    existing = {int(child["id"]): child for child in children}
    total_text = str(post.get(inline_form.total_name, "0"))
    # isdecimal, not isdigit: "²" is a digit that int() refuses.
    total = min(int(total_text), _MAX_INLINE_ROWS) if total_text.isdecimal() else 0
    rows: list[InlineRow] = []
    for index in range(total):
        prefix = f"{inline.table.name}-{index}"
        id_text = str(post.get(f"{prefix}-id", "")).strip()
        child = None
        if id_text:
            child = existing.get(int(id_text)) if id_text.isdecimal() else None
            if child is None:
                inline_form.errors.append(
                    f"A {inline.singular} in this form no longer belongs here; reload the page."
                )
                continue
        row = _inline_row(inline, index, child)
        row.delete = child is not None and bool(post.get(f"{prefix}-DELETE"))
        if not row.delete:
            offered = [bound.text for bound in row.fields]
            for bound in row.fields:
                changed, value = _take(bound, post, adding=child is None, old=child)
                if changed:
                    row.values[bound.field.name] = value
            if child is None and [bound.text.strip() for bound in row.fields] == [
                text.strip() for text in offered
            ]:
                row.untouched = True
                for bound in row.fields:
                    bound.error = None
        rows.append(row)
    inline_form.rows = rows


def bind(
    admin: AdminTable,
    post: Form,
    *,
    row: Row | None = None,
    children: Mapping[str, Sequence[Row]] = {},
    totals: Mapping[str, int] = {},
) -> AdminForm:
    """The form with *post* read into it: texts kept, values parsed, errors set."""
    form = unbound(admin, row=row, children=children, totals=totals)
    for bound in form.fields:
        if bound.field.readonly:
            continue
        changed, value = _take(bound, post, adding=form.adding, old=row)
        if changed:
            form.values[bound.field.name] = value
    _bind_password(form, post)
    for inline_form in form.inlines:
        _bind_inline(inline_form, post, children.get(inline_form.inline.table.name, ()))
    return form


def _all_fields(form: AdminForm) -> list[BoundField]:
    bound = list(form.fields)
    for inline_form in form.inlines:
        for row in inline_form.rows:
            if not row.delete and not row.untouched:
                bound += row.fields
    return bound


async def check_references(conn: Connection, form: AdminForm) -> None:
    """Set an error on each foreign key naming a row that does not exist."""
    for bound in _all_fields(form):
        table = bound.field.references
        if table is None or bound.error or bound.field.readonly or not bound.text.strip():
            continue
        if not await queries.exists(conn, table, int(bound.text.strip())):
            bound.error = "Select a valid choice; that row does not exist."


async def load_options(conn: Connection, site: AdminSite, form: AdminForm) -> None:
    """Fill each foreign key's choices, and a read-only one's title."""
    for bound in _all_fields(form):
        table = bound.field.references
        if table is None:
            continue
        title = site.title_column(table)
        if bound.field.readonly:
            if bound.text.isdigit():
                found = await queries.titles(conn, title, [int(bound.text)])
                bound.display = found.get(int(bound.text), bound.text)
            continue
        bound.options = await queries.options(conn, title, OPTIONS_LIMIT)
