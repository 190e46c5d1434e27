"""What the polls API accepts and answers, as pydantic models.

The same models validate requests, serialise responses and generate the
OpenAPI document's schemas.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, Field

from portal.appkit import Input, Timestamp, text
from portal.apps.polls.queries import MAX_CHOICES
from portal.apps.polls.tables import choice, question

__all__ = [
    "ChoiceCreate",
    "ChoiceOut",
    "QuestionCreate",
    "QuestionDetail",
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
