"""What the polls API accepts and answers, as pydantic models.

The same models validate requests, serialise responses and generate the
OpenAPI document's schemas.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, Field

from portal.appkit import Input, OrderedPageQuery, QueryBool, Timestamp, search_text, text
from portal.apps.polls.queries import MAX_CHOICES
from portal.apps.polls.tables import choice, question

__all__ = [
    "ChoiceCreate",
    "ChoiceOut",
    "QuestionCreate",
    "QuestionDetail",
    "QuestionListQuery",
    "QuestionOut",
    "QuestionPatch",
    "VoteOut",
]

_QUESTION_MAX = question.c.question_text.type.length
_CHOICE_MAX = choice.c.choice_text.type.length


class ChoiceOut(BaseModel):
    """A choice with its vote count."""

    id: int
    question_id: int
    choice_text: str
    votes: int
    vote_url: str


class ChoiceCreate(Input):
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


class QuestionCreate(Input):
    """A new question and its choices."""

    question_text: Annotated[str, text(_QUESTION_MAX)]
    pub_date: Timestamp | None = Field(None, description="Defaults to now.")
    choices: list[ChoiceCreate] = Field(default_factory=list, max_length=MAX_CHOICES)


class QuestionPatch(Input):
    """The fields of a question to change; absent or null ones stay as they are."""

    question_text: Annotated[str, text(_QUESTION_MAX)] | None = None
    pub_date: Timestamp | None = None


class VoteOut(BaseModel):
    """The choice voted for, with its new count."""

    id: int
    question_id: int
    votes: int


class QuestionListQuery(OrderedPageQuery):
    """The question list's query string: page, ordering and filters."""

    sort_types: ClassVar[dict[str, Any]] = {"id": int, "pub_date": Timestamp}

    ordering: Literal["id", "-id", "pub_date", "-pub_date"] = Field(
        "id", description="The order of the questions: by id or by `pub_date`; `-` is descending."
    )
    pub_date_after: Timestamp | None = Field(
        None,
        description="Only questions published at or after this time (RFC 3339 date-time; "
        "without an offset it is taken as UTC).",
    )
    pub_date_before: Timestamp | None = Field(
        None,
        description="Only questions published before this time (RFC 3339 date-time; "
        "without an offset it is taken as UTC).",
    )
    question_text_contains: Annotated[str, search_text(_QUESTION_MAX)] | None = Field(
        None,
        description="Only questions whose text contains this text, ignoring case "
        "(`%` and `_` are plain characters here).",
    )
    published: QueryBool | None = Field(
        None,
        description="true: only published questions; false: only those whose `pub_date` is "
        "still to come, for staff only (403 for anyone else). Without it, staff see both "
        "and everyone else the published ones.",
    )
