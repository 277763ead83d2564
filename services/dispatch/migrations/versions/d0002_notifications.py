"""The notification outbox: one row per notice and channel, rendered when queued, with its delivery
state (one durable retry timer per row: `next_attempt_at` while pending). `dedup_key` makes queueing
idempotent: a notice queued twice (two replicas, a retried handler) is one row, sent once.

Revision ID: d0002
Revises: d0001
"""

from alembic import op

revision = "d0002"
down_revision = "d0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE notifications (
            id uuid PRIMARY KEY,
            dedup_key varchar(300) NOT NULL,
            case_id uuid,  -- not every notice concerns a case dispatch follows: no foreign key
            notice varchar(64) NOT NULL,
            channel varchar(8) NOT NULL CHECK (channel IN ('email', 'sms')),
            recipient varchar(320) NOT NULL,
            language varchar(5) NOT NULL,
            subject text NOT NULL,
            body text NOT NULL,
            correlation_id varchar(128) NOT NULL,
            deliver_at timestamptz NOT NULL,
            next_attempt_at timestamptz NOT NULL,
            attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            status varchar(8) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
            last_error text,
            sent_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT notifications_dedup_key UNIQUE (dedup_key)
        );
        -- The delivery loop's only question: which pending rows are due. Sent and failed rows
        -- (nearly all of them, in time) stay out of the index.
        CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'pending';
    """)


def downgrade() -> None:
    op.execute("DROP TABLE notifications;")
