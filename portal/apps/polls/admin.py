"""The polls tables in the staff admin: questions with their choices inline, and choices."""

from __future__ import annotations

import datetime as dt

from portal.appkit import AdminTable, Inline
from portal.apps.polls.tables import choice, question

__all__ = ["ADMIN"]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


question_admin = AdminTable(
    question,
    label="Questions",
    singular="question",
    list_display=("question_text", "pub_date", "id"),
    search=("question_text",),
    filters=("pub_date",),
    ordering=("-pub_date",),
    labels={"question_text": "Question", "pub_date": "Date published"},
    initial={"pub_date": _now},
    inlines=(
        Inline(
            choice,
            fk_column="question_id",
            fields=("choice_text", "votes"),
            label="Choices",
            labels={"choice_text": "Choice"},
        ),
    ),
)

choice_admin = AdminTable(
    choice,
    label="Choices",
    singular="choice",
    list_display=("choice_text", "question_id", "votes", "id"),
    search=("choice_text",),
    filters=("question_id",),
    ordering=("question_id", "id"),
    labels={"choice_text": "Choice", "question_id": "Question"},
)

#: What the polls app shows in the admin.
ADMIN = (question_admin, choice_admin)
