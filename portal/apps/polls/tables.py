"""The polls tables (created by ``migrations/polls_0001_initial.py``).

``question (pub_date, id)`` serves the API's ``pub_date`` orderings and range
filters and the newest-first index page (``polls_0003``). The GIN index of
the question text's trigrams, for ``?question_text_contains=``, indexes an
expression, which SQLAlchemy 1.4 does not reflect: it is declared in the
migration only (autogenerate never sees it, and never proposes to drop it).
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["choice", "metadata", "question"]

metadata = sa.MetaData()

question = sa.Table(
    "question",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("question_text", sa.String(200), nullable=False),
    sa.Column("pub_date", sa.DateTime(timezone=True), nullable=False),
    sa.Index("question_pub_date_id_idx", "pub_date", "id"),
)

choice = sa.Table(
    "choice",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "question_id",
        sa.Integer,
        sa.ForeignKey("question.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("choice_text", sa.String(200), nullable=False),
    sa.Column("votes", sa.Integer, nullable=False, server_default="0"),
    sa.Index("choice_question_id_idx", "question_id"),
)
