"""The tables as the reference servers declare them: their own, not portal's.

A bare app written from the aiohttp polls tutorial would declare these itself;
importing portal's would also import portal's apps.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["choice", "metadata", "question", "todo"]

metadata = sa.MetaData()

question = sa.Table(
    "question",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("question_text", sa.String(200), nullable=False),
    sa.Column("pub_date", sa.DateTime(timezone=True), nullable=False),
)

choice = sa.Table(
    "choice",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("question_id", sa.Integer, sa.ForeignKey("question.id"), nullable=False),
    sa.Column("choice_text", sa.String(200), nullable=False),
    sa.Column("votes", sa.Integer, nullable=False),
)

todo = sa.Table(
    "todo",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("finished", sa.Boolean, nullable=False),
)
