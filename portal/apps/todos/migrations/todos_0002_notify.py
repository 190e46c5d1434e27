"""Publish every change to a todo on the platform's event channel.

A trigger, so changes from the page, the API, the admin or psql all reach the
open todo pages, and only once their transaction commits.

Revision ID: todos_0002
Revises: todos_0001
Create Date: 2026-11-21
"""

from alembic import op

revision = "todos_0002"
down_revision = "todos_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION todos_notify() RETURNS trigger AS $$
        DECLARE
            row todo;
        BEGIN
            IF TG_OP = 'DELETE' THEN row := OLD; ELSE row := NEW; END IF;
            PERFORM pg_notify('portal_events', json_build_object(
                'topic', 'todos.changed',
                'data', json_build_object('op', lower(TG_OP), 'id', row.id)
            )::text);
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        """
        CREATE TRIGGER todo_notify AFTER INSERT OR UPDATE OR DELETE ON todo
        FOR EACH ROW EXECUTE FUNCTION todos_notify()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER todo_notify ON todo")
    op.execute("DROP FUNCTION todos_notify()")
