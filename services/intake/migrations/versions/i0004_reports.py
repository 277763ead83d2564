"""Fault analysis reports and report deliveries.

Revision ID: i0004
Revises: i0003
"""

from alembic import op

revision = "i0004"
down_revision = "i0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE analyses (
            case_id uuid PRIMARY KEY REFERENCES cases (id),
            record jsonb NOT NULL,
            recorded_by varchar(128) NOT NULL,
            recorded_at timestamptz NOT NULL
        );
        CREATE TABLE report_deliveries (
            case_id uuid NOT NULL REFERENCES cases (id),
            report varchar(30) NOT NULL,
            delivered_by varchar(128) NOT NULL,
            delivered_at timestamptz NOT NULL,
            PRIMARY KEY (case_id, report)
        );
    """)


def downgrade() -> None:
    op.execute("DROP TABLE report_deliveries; DROP TABLE analyses;")
