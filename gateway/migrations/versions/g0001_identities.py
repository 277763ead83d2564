"""Organisations, users, API keys and idempotency keys.

Revision ID: g0001
"""

from alembic import op

from gateway.tables import metadata

revision = "g0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(op.get_bind())


def downgrade() -> None:
    metadata.drop_all(op.get_bind())
