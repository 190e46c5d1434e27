"""The polls tables: question and choice, as in the aiohttp polls tutorial.

Revision ID: polls_0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "polls_0001"
down_revision = None
branch_labels = ("polls",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "question",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("question_text", sa.String(200), nullable=False),
        sa.Column("pub_date", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("question_pub_date_idx", "question", ["pub_date"])
    op.create_table(
        "choice",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "question_id",
            sa.Integer,
            sa.ForeignKey("question.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("choice_text", sa.String(200), nullable=False),
        sa.Column("votes", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("choice_question_id_idx", "choice", ["question_id"])


def downgrade() -> None:
    op.drop_table("choice")
    op.drop_table("question")
