"""The polls tables (created by ``migrations/polls_0001_initial.py``)."""

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
    sa.Index("question_pub_date_idx", "pub_date"),
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
