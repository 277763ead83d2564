"""The outbox and inbox of reliable messaging, in every service's database.

Revision ID: sk0001
"""

from alembic import op

from servicekit.messaging.schema import create_tables, drop_tables

revision = "sk0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_tables(op)


def downgrade() -> None:
    drop_tables(op)
