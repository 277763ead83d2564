"""Attachment metadata (the files themselves live outside the database).

Revision ID: i0003
Revises: i0002
"""

from alembic import op

revision = "i0003"
down_revision = "i0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE attachments (
            id uuid PRIMARY KEY,
            case_id uuid NOT NULL REFERENCES cases (id),
            filename varchar(255) NOT NULL,
            content_type varchar(100) NOT NULL,
            size bigint NOT NULL,
            sha256 char(64) NOT NULL,
            internal boolean NOT NULL,
            uploaded_by varchar(128) NOT NULL,
            uploaded_at timestamptz NOT NULL
        );
        CREATE INDEX attachments_case ON attachments (case_id, uploaded_at);
    """)


def downgrade() -> None:
    op.execute("DROP TABLE attachments")
