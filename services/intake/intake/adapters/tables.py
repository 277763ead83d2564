"""Intake's tables (the migration in services/intake/migrations/versions creates them)."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

metadata = MetaData()

cases = Table(
    "cases", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("organisation_id", UUID(as_uuid=True), nullable=False),
    Column("contract_id", String(64), nullable=False),
    Column("system_id", String(64), nullable=False),
    Column("vendor", String(100)),
    Column("region", String(64)),
    Column("catalogue_item", String(100)),
    Column("case_type", String(20), nullable=False),
    Column("reporter", JSONB, nullable=False),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("impact", JSONB, nullable=False),
    Column("urgency", String(10), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("tier", String(2), nullable=False),
    Column("suggested_tier", String(2), nullable=False),
    Column("status", String(30), nullable=False),
    Column("assignee", String(128)),
    Column("linked_case_id", UUID(as_uuid=True)),
    Column("possible_duplicate_of", UUID(as_uuid=True)),
    Column("status_changed_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
# (the columns above from linked_case_id to status_changed_at come with migration i0002)
# `cases.search` (a tsvector generated from title and description) is added by the migration and
# used only in queries, so it is not declared here.

timeline = Table(
    "timeline", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("case_id", UUID(as_uuid=True), ForeignKey("cases.id"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("kind", String(40), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("internal", Boolean, nullable=False),
    Column("summary", Text, nullable=False),
    Column("data", JSONB, nullable=False),
)

resolutions = Table(
    "resolutions", metadata,
    Column("case_id", UUID(as_uuid=True), ForeignKey("cases.id"), primary_key=True),
    Column("record", JSONB, nullable=False),
    Column("recorded_by", String(128), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

surveys = Table(
    "surveys", metadata,
    Column("case_id", UUID(as_uuid=True), ForeignKey("cases.id"), primary_key=True),
    Column("score", Integer, nullable=False),
    Column("comment", Text),
    Column("answered_by", String(128), nullable=False),
    Column("answered_at", DateTime(timezone=True), nullable=False),
)

complaints = Table(
    "complaints", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("case_id", UUID(as_uuid=True), ForeignKey("cases.id"), nullable=False),
    Column("organisation_id", UUID(as_uuid=True), nullable=False),
    Column("status", String(10), nullable=False),
    Column("body", Text, nullable=False),
    Column("filed_by", String(128), nullable=False),
    Column("filed_at", DateTime(timezone=True), nullable=False),
    Column("first_reply_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
)

attachments = Table(
    "attachments", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("case_id", UUID(as_uuid=True), ForeignKey("cases.id"), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("internal", Boolean, nullable=False),
    Column("uploaded_by", String(128), nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
)

analyses = Table(
    "analyses", metadata,
    Column("case_id", UUID(as_uuid=True), ForeignKey("cases.id"), primary_key=True),
    Column("record", JSONB, nullable=False),
    Column("recorded_by", String(128), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

report_deliveries = Table(
    "report_deliveries", metadata,
    Column("case_id", UUID(as_uuid=True), ForeignKey("cases.id"), primary_key=True),
    Column("report", String(30), primary_key=True),
    Column("delivered_by", String(128), nullable=False),
    Column("delivered_at", DateTime(timezone=True), nullable=False),
)
