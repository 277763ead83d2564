"""Calendars record when their hours last changed, so every replica notices a change.

Revision ID: s0002
Revises: s0001
"""

from alembic import op

revision = "s0002"
down_revision = "s0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE calendars ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now()")


def downgrade() -> None:
    op.execute("ALTER TABLE calendars DROP COLUMN updated_at")
