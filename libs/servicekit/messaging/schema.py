"""The messaging tables every service database has: the outbox (events to publish) and the inbox
(events already processed by each consumer). Service migrations create them with `create_tables(op)`.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Index, MetaData, String, Table, Text, func, text
from sqlalchemy.dialects.postgresql import UUID

metadata = MetaData()

outbox = Table(
    "outbox", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("event_type", String(100), nullable=False),
    Column("exchange", String(200), nullable=False),
    Column("routing_key", String(200), nullable=False),
    Column("correlation_id", String(128), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_at", DateTime(timezone=True)),
    # The relay only ever scans unpublished rows: keep that index tiny.
    Index("outbox_unpublished", "id", postgresql_where=text("published_at IS NULL")),
)

inbox = Table(
    "inbox", metadata,
    Column("consumer", String(200), primary_key=True),
    Column("event_id", UUID(as_uuid=True), primary_key=True),
    Column("event_type", String(100), nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


def create_tables(op) -> None:
    """Create the outbox and inbox (with their indexes) in an Alembic migration."""
    metadata.create_all(op.get_bind(), tables=[outbox, inbox])


def drop_tables(op) -> None:
    metadata.drop_all(op.get_bind(), tables=[outbox, inbox])
