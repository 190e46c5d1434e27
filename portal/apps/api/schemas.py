"""What the API accepts and answers, as pydantic models.

The same models validate requests, serialise responses and generate the
OpenAPI document's schemas.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)

from portal.apps.polls.queries import MAX_CHOICES
from portal.apps.polls.tables import choice, question
from portal.apps.todos.queries import NAME_MAX_LENGTH

__all__ = [
    "ApiIndex",
    "ChoiceCreate",
    "ChoiceOut",
    "QuestionCreate",
    "QuestionDetail",
    "QuestionOut",
    "QuestionPatch",
    "TodoCreate",
    "TodoOut",
    "TodoPatch",
    "VoteOut",
]


def text(max_length: int) -> object:
    """A string with something besides whitespace in it and no NUL (PostgreSQL refuses NUL).

    ``\\x1c``-``\\x1f`` are listed because Python's ``str.strip()`` removes
    them while the regex engine's ``\\s`` does not.
    """
    return StringConstraints(
        strict=True,
        min_length=1,
        max_length=max_length,
        pattern=r"^[^\x00]*[^\x00\s\x1c-\x1f][^\x00]*$",
    )


def _utc(value: dt.datetime) -> dt.datetime:
    try:
        return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
    except OverflowError:
        raise ValueError("the date is out of range") from None


#: RFC 3339's ``date-time``, its offset optional (ASCII digits: ``\d`` is any Unicode digit).
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})?"
)


def _date_time_text(value: object) -> object:
    # Not pydantic's Strict(): even strict, it reads the string "0" as seconds
    # since the epoch, and takes "12:30" without seconds or a space for the
    # "T". The document says RFC 3339 text, so nothing else gets through: no
    # JSON number either, whatever epoch it might count from.
    if isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or not _DATE_TIME.fullmatch(value):
        raise ValueError("the date must be an RFC 3339 date-time, like 2024-05-01T12:30:00Z")
    return value


#: A point in time; one without an offset is taken as UTC.
Timestamp = Annotated[
    dt.datetime,
    BeforeValidator(_date_time_text),
    AfterValidator(_utc),
    Field(description="RFC 3339 date-time; without an offset it is taken as UTC."),
]

_QUESTION_MAX = question.c.question_text.type.length
_CHOICE_MAX = choice.c.choice_text.type.length


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ApiIndex(BaseModel):
    """Where each resource lives."""

    todos: str
    questions: str
    openapi: str


class TodoOut(BaseModel):
    """A todo."""

    id: int
    name: str
    finished: bool
    url: str


class TodoCreate(_Input):
    """A new todo."""

    name: Annotated[str, text(NAME_MAX_LENGTH)]
    finished: StrictBool = False


def _absent_keeps(schema: dict[str, Any]) -> None:
    # The field may be left out, but null is not a value it takes: no default in the document.
    schema.pop("default", None)


class TodoPatch(_Input):
    """The change to a todo: its name, whether it is finished, or both; absent ones stay.

    Read the change with :meth:`changes`: only the fields the client sent.
    """

    # At least one field: an empty object changes nothing and is refused.
    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    # None stands for "absent" and is never validated (pydantic does not
    # validate defaults), so an explicit null is still refused: neither column
    # takes null. The declared types are what a client may send.
    name: Annotated[str, text(NAME_MAX_LENGTH)] = Field(  # type: ignore[assignment]
        None, json_schema_extra=_absent_keeps
    )
    finished: StrictBool = Field(None, json_schema_extra=_absent_keeps)  # type: ignore[assignment]

    @model_validator(mode="after")
    def _something_to_change(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("Send at least one of the fields name and finished.")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, by name."""
        return {name: getattr(self, name) for name in sorted(self.model_fields_set)}


class ChoiceOut(BaseModel):
    """A choice with its vote count."""

    id: int
    question_id: int
    choice_text: str
    votes: int
    vote_url: str


class ChoiceCreate(_Input):
    """A new choice of a question."""

    choice_text: Annotated[str, text(_CHOICE_MAX)]


class QuestionOut(BaseModel):
    """A question, without its choices."""

    id: int
    question_text: str
    pub_date: dt.datetime
    url: str
    choices_url: str


class QuestionDetail(QuestionOut):
    """A question with its choices."""

    choices: list[ChoiceOut] = Field(
        description=f"The first {MAX_CHOICES} choices at most; `choices_next` links any more."
    )
    choices_next: str | None = Field(
        description="The page of choices after these, or null when these are all of them."
    )


class QuestionCreate(_Input):
    """A new question and its choices."""

    question_text: Annotated[str, text(_QUESTION_MAX)]
    pub_date: Timestamp | None = Field(None, description="Defaults to now.")
    choices: list[ChoiceCreate] = Field(default_factory=list, max_length=MAX_CHOICES)


class QuestionPatch(_Input):
    """The fields of a question to change; absent or null ones stay as they are."""

    question_text: Annotated[str, text(_QUESTION_MAX)] | None = None
    pub_date: Timestamp | None = None


class VoteOut(BaseModel):
    """The choice voted for, with its new count."""

    id: int
    question_id: int
    votes: int
