"""Indexes for the API's todo filters: ``finished`` with the id, and the name's trigrams.

``?name_contains=`` is a case-insensitive substring search. pg_trgm would
index it, but it is a contrib extension the embedded PostgreSQL (the
``pgserver`` wheel) does not ship, so the same idea is built from core
PostgreSQL: ``todos_trigrams`` gives the distinct three-character pieces of
a text, a GIN index holds those of each lower-cased name, and a query asks
for the names holding every trigram of its term (``@>``) before ILIKE
decides. Any name containing the term holds all of its trigrams, so nothing
is missed; the index only narrows the rows ILIKE reads.

Revision ID: todos_0003
Revises: todos_0002
Create Date: 2026-12-07
"""

from alembic import op

revision = "todos_0003"
down_revision = "todos_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION todos_trigrams(value text) RETURNS text[]
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
            SELECT ARRAY(
                SELECT DISTINCT substr(value, i, 3) FROM generate_series(1, length(value) - 2) AS i
            )
        $$
        """
    )
    op.create_index("todo_finished_id_idx", "todo", ["finished", "id"])
    op.execute(
        "CREATE INDEX todo_name_trigrams_idx ON todo USING gin (todos_trigrams(lower(name)))"
    )


def downgrade() -> None:
    op.drop_index("todo_name_trigrams_idx", "todo")
    op.drop_index("todo_finished_id_idx", "todo")
    op.execute("DROP FUNCTION todos_trigrams(text)")
