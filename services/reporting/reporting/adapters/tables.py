"""Reporting's own tables. The event log is the recorded history every projection is rebuilt from."""

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, func
from sqlalchemy.dialects.postgresql import JSONB, UUID

metadata = MetaData()

event_log = Table(
    "event_log", metadata,
    Column("event_id", UUID(as_uuid=True), primary_key=True),
    Column("event_type", String(100), nullable=False, index=True),
    Column("schema_version", Integer, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False, index=True),
    Column("case_id", UUID(as_uuid=True), index=True),
    Column("correlation_id", String(128), nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
