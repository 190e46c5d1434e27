"""Indexes for the API's question filters: ``(pub_date, id)`` and the text's trigrams.

``(pub_date, id)`` replaces the index on ``pub_date`` alone: it serves the
``pub_date`` orderings with their id tie-break, the date ranges, and the
newest-first index page as well.

``?question_text_contains=`` is a case-insensitive substring search. pg_trgm
would index it, but it is a contrib extension the embedded PostgreSQL (the
``pgserver`` wheel) does not ship, so the same idea is built from core
PostgreSQL: ``polls_trigrams`` gives the distinct three-character pieces of a
text, a GIN index holds those of each lower-cased question text, and a query
asks for the texts holding every trigram of its term (``@>``) before ILIKE
decides. Any text containing the term holds all of its trigrams, so nothing
is missed; the index only narrows the rows ILIKE reads.

Revision ID: polls_0003
Revises: polls_0002
Create Date: 2026-12-07
"""

from alembic import op

revision = "polls_0003"
down_revision = "polls_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION polls_trigrams(value text) RETURNS text[]
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
            SELECT ARRAY(
                SELECT DISTINCT substr(value, i, 3) FROM generate_series(1, length(value) - 2) AS i
            )
        $$
        """
    )
    op.create_index("question_pub_date_id_idx", "question", ["pub_date", "id"])
    op.drop_index("question_pub_date_idx", "question")
    op.execute(
        "CREATE INDEX question_text_trigrams_idx ON question "
        "USING gin (polls_trigrams(lower(question_text)))"
    )


def downgrade() -> None:
    op.drop_index("question_text_trigrams_idx", "question")
    op.create_index("question_pub_date_idx", "question", ["pub_date"])
    op.drop_index("question_pub_date_id_idx", "question")
    op.execute("DROP FUNCTION polls_trigrams(text)")
