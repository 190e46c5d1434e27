"""Publish every change to a choice on the platform's event channel.

A trigger, rather than application code, so that votes and edits from the
pages, the API, the admin or psql all reach live pages alike, and only when
their transaction commits.

Revision ID: polls_0002
Revises: polls_0001
Create Date: 2026-11-21
"""

from alembic import op

revision = "polls_0002"
down_revision = "polls_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION polls_choice_notify() RETURNS trigger AS $$
        DECLARE
            row choice;
        BEGIN
            IF TG_OP = 'DELETE' THEN row := OLD; ELSE row := NEW; END IF;
            PERFORM pg_notify('portal_events', json_build_object(
                'topic', 'polls.choice',
                'data', json_build_object(
                    'op', lower(TG_OP),
                    'question_id', row.question_id,
                    'choice_id', row.id,
                    'votes', row.votes
                )
            )::text);
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        """
        CREATE TRIGGER choice_notify AFTER INSERT OR UPDATE OR DELETE ON choice
        FOR EACH ROW EXECUTE FUNCTION polls_choice_notify()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER choice_notify ON choice")
    op.execute("DROP FUNCTION polls_choice_notify()")
