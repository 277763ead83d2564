"""Commands intake answers over RPC and the views it returns (the gateway's request and response
bodies are these models, so HTTP validation and intake's own validation are one and the same).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, field_validator, model_validator

from .cases import CaseStatus, Channel, Tier

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _no_nul_characters(self) -> Strict:
        # PostgreSQL text cannot hold U+0000: refuse it here, with the field named, not deep in storage.
        for name, value in self:
            if isinstance(value, str) and "\x00" in value:
                raise ValueError(f"{name} contains a NUL character")
        return self


class Role(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    ENGINEER = "engineer"
    MANAGER = "manager"
    VENDOR = "vendor"
    ADMIN = "admin"


class Actor(Strict):
    """Who is asking: set by the gateway from the authenticated principal, never by the client."""

    username: str
    role: Role
    organisation_id: UUID | None = None
    region: str | None = None


def may_see_case(actor: Actor, organisation_id: UUID, region: str | None, assignee: str | None) -> bool:
    """Who may see a case (the domain's "Actors"): intake decides with it, and the gateway's case
    views apply it to the cached view, so both answer alike."""
    if actor.role is Role.CUSTOMER:
        return actor.organisation_id == organisation_id
    if actor.role is Role.ENGINEER:
        return assignee == actor.username or (region is not None and region == actor.region)
    return actor.role in (Role.AGENT, Role.MANAGER, Role.ADMIN)


class CaseType(StrEnum):
    FAULT = "fault"
    REQUEST = "request"  # information, support, move/add/change, test support (P4 work)
    INSPECTION = "inspection"


class Urgency(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Reporter(Strict):
    name: Annotated[Text, Field(max_length=120)]
    organisation: Annotated[Text, Field(max_length=200)]
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9 ()-]{5,30}$")] = Field(examples=["+86 10 5555 0101"])
    email: EmailStr


class Impact(Strict):
    """Structured impact data; all optional. It drives the tier suggestion (domain hints)."""

    users_affected: int | None = Field(None, ge=0, le=10_000_000)
    share_of_users_pct: float | None = Field(None, ge=0, le=100)
    share_of_trunks_pct: float | None = Field(None, ge=0, le=100)
    restart_count: int | None = Field(None, ge=0, le=10_000)
    power_failure: bool | None = None
    key_users_affected: bool | None = Field(None, description="Attendant console, VIP or call-centre users.")
    severe_degradation: bool | None = None


class OpenCase(Strict):
    reporter: Reporter
    organisation_id: UUID = Field(description="The customer organisation; customers may only give their own.")
    contract_id: Annotated[Text, Field(max_length=64)]
    system_id: Annotated[Text, Field(max_length=64)] = Field(description="The maintained system or platform.")
    vendor: Annotated[Text, Field(max_length=100)] | None = None
    region: Annotated[Text, Field(max_length=64)] | None = None
    catalogue_item: Annotated[Text, Field(max_length=100)] | None = None
    case_type: CaseType = CaseType.FAULT
    title: Annotated[Text, Field(max_length=200)]
    description: Annotated[Text, Field(max_length=20_000)]
    impact: Impact = Field(default_factory=Impact)
    urgency: Urgency = Urgency.MEDIUM
    channel: Channel
    tier: Tier | None = Field(None, description="An agent's override of the suggested tier (needs tier_reason).")
    tier_reason: Annotated[Text, Field(max_length=2000)] | None = None


class ChangeTier(Strict):
    tier: Tier
    reason: Annotated[Text, Field(max_length=2000)]


class Action(StrEnum):
    """Moves of the status machine (see services/intake/intake/domain/status.py)."""

    ASSIGN = "assign"
    START = "start"
    AWAIT_CUSTOMER = "await_customer"
    CUSTOMER_REPLIED = "customer_replied"
    AWAIT_REPRODUCTION = "await_reproduction"
    RECURRED = "recurred"
    RESOLVE = "resolve"
    ACCEPT = "accept"
    REJECT = "reject"
    CLOSE_NO_RECURRENCE = "close_no_recurrence"
    NEW_CAUSE_FOUND = "new_cause_found"  # via POST /cases/{id}/new-cause: closes and opens a linked case
    MERGE = "merge"  # via POST /cases/{id}/merge: a duplicate closes into another case


class Transition(Strict):
    action: Action
    reason: Annotated[Text, Field(max_length=2000)] | None = None
    assignee: Annotated[Text, Field(max_length=128)] | None = Field(None, description="For `assign`.")


class AddNote(Strict):
    body: Annotated[Text, Field(max_length=20_000)]
    internal: bool = Field(False, description="Hidden from customers.")


class SortKey(StrEnum):
    CREATED = "created_at"
    UPDATED = "updated_at"
    NUMBER = "number"
    TIER = "tier"


class CaseQuery(Strict):
    status: list[CaseStatus] | None = None
    tier: list[Tier] | None = None
    organisation_id: UUID | None = None
    system_id: str | None = Field(None, max_length=64)
    vendor: str | None = Field(None, max_length=100)
    case_type: CaseType | None = None
    channel: Channel | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    updated_from: datetime | None = None
    updated_to: datetime | None = None
    q: str | None = Field(None, max_length=200, description="Full-text search in title and description.")
    sort: SortKey = SortKey.CREATED
    descending: bool = True
    limit: int = Field(50, ge=1, le=200)
    cursor: str | None = Field(None, max_length=500)

    @field_validator("created_from", "created_to", "updated_from", "updated_to")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        # Any offset Python accepts, stored time zones do not (PostgreSQL stops at +-15:59): use UTC.
        if value is None:
            return None
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


class CaseView(BaseModel):
    id: UUID
    number: str = Field(examples=["2026-000123"])
    organisation_id: UUID
    contract_id: str
    system_id: str
    vendor: str | None
    region: str | None
    catalogue_item: str | None
    case_type: CaseType
    reporter: Reporter
    title: str
    description: str
    impact: Impact
    urgency: Urgency
    channel: Channel
    tier: Tier
    suggested_tier: Tier
    status: CaseStatus
    assignee: str | None
    linked_case_id: UUID | None = Field(None, description="The case this one led to or came from.")
    possible_duplicate_of: UUID | None = Field(None, description="Same reporter, system and title recently.")
    version: int = Field(description="Increases with every change; the ETag.")
    created_at: datetime
    updated_at: datetime


class CasePage(BaseModel):
    items: list[CaseView]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")


class TimelineEntry(BaseModel):
    id: int
    at: datetime
    kind: str = Field(examples=["status_changed", "note", "tier_changed", "opened"])
    actor: str
    internal: bool
    summary: str
    data: dict


class Resolution(Strict):
    """The fault service report's content; required before a case can be resolved."""

    handling_method: Annotated[Text, Field(max_length=2000)]
    operations_performed: Annotated[Text, Field(max_length=20_000)]
    handler: Annotated[Text, Field(max_length=120)]
    handler_contact: Annotated[Text, Field(max_length=200)]
    started_at: datetime
    completed_at: datetime
    process: Annotated[Text, Field(max_length=20_000)]
    lessons_learned: Annotated[Text, Field(max_length=20_000)] | None = None


class SurveyAnswer(Strict):
    score: int = Field(ge=1, le=5, description="1 (very unhappy) to 5 (very happy).")
    comment: Annotated[Text, Field(max_length=2000)] | None = None


class FileComplaint(Strict):
    body: Annotated[Text, Field(max_length=20_000)]


class ComplaintReply(Strict):
    body: Annotated[Text, Field(max_length=20_000)]


class ComplaintStatus(StrEnum):
    OPEN = "open"
    REPLIED = "replied"
    CLOSED = "closed"


class ComplaintView(BaseModel):
    id: UUID
    case_id: UUID
    organisation_id: UUID
    status: ComplaintStatus
    body: str
    filed_by: str
    filed_at: datetime
    first_reply_at: datetime | None
    closed_at: datetime | None


class NewCauseFound(Strict):
    """Handling found another cause: this case closes and a linked new case opens."""

    reason: Annotated[Text, Field(max_length=2000)]
    title: Annotated[Text, Field(max_length=200)]
    description: Annotated[Text, Field(max_length=20_000)]


class Merge(Strict):
    into: UUID = Field(description="The case this duplicate is merged into (it stays open).")


ATTACHMENT_TYPES = ("image/png", "image/jpeg", "image/gif", "application/pdf", "text/plain", "application/zip",
                    "application/gzip")


class AttachmentView(BaseModel):
    id: UUID
    case_id: UUID
    filename: str
    content_type: str
    size: int
    sha256: str
    internal: bool
    uploaded_by: str
    uploaded_at: datetime


class FaultAnalysis(Strict):
    """The fault analysis report's sections (P1/P2, due within 3 days of resolution)."""

    content: Annotated[Text, Field(max_length=20_000)]
    affected_from: datetime
    affected_to: datetime
    affected_users: Annotated[Text, Field(max_length=2000)]
    handling_process: Annotated[Text, Field(max_length=20_000)]
    analysis_and_localisation: Annotated[Text, Field(max_length=20_000)]
    lessons: Annotated[Text, Field(max_length=20_000)]
    preventive_measures: Annotated[Text, Field(max_length=20_000)]


class ReportKind(StrEnum):
    FAULT_REPORT = "fault_report"
    FAULT_ANALYSIS_REPORT = "fault_analysis_report"
