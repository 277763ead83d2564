"""Surveys, complaints, case links (new cause, duplicates) and when the status last changed.

Revision ID: i0002
Revises: i0001
"""

from alembic import op

revision = "i0002"
down_revision = "i0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        ALTER TABLE cases ADD COLUMN linked_case_id uuid REFERENCES cases (id);
        ALTER TABLE cases ADD COLUMN possible_duplicate_of uuid REFERENCES cases (id);
        ALTER TABLE cases ADD COLUMN status_changed_at timestamptz;
        UPDATE cases SET status_changed_at = updated_at;
        ALTER TABLE cases ALTER COLUMN status_changed_at SET NOT NULL;
        CREATE INDEX cases_awaiting_reproduction ON cases (status_changed_at)
            WHERE status = 'awaiting_reproduction';
        CREATE INDEX cases_duplicate_probe ON cases (system_id, lower(title), created_at DESC);

        CREATE TABLE surveys (
            case_id uuid PRIMARY KEY REFERENCES cases (id),
            score smallint NOT NULL CHECK (score BETWEEN 1 AND 5),
            comment text,
            answered_by varchar(128) NOT NULL,
            answered_at timestamptz NOT NULL
        );
        CREATE TABLE complaints (
            id uuid PRIMARY KEY,
            case_id uuid NOT NULL REFERENCES cases (id),
            organisation_id uuid NOT NULL,
            status varchar(10) NOT NULL,
            body text NOT NULL,
            filed_by varchar(128) NOT NULL,
            filed_at timestamptz NOT NULL,
            first_reply_at timestamptz,
            closed_at timestamptz
        );
        CREATE INDEX complaints_status ON complaints (status, filed_at);
        CREATE INDEX complaints_case ON complaints (case_id);
    """)


def downgrade() -> None:
    op.execute("""
        DROP TABLE complaints; DROP TABLE surveys;
        ALTER TABLE cases DROP COLUMN linked_case_id, DROP COLUMN possible_duplicate_of,
                          DROP COLUMN status_changed_at;
    """)
