"""Events produced by intake, the owner of cases.

Other services react to these (the SLA engine starts, pauses and stops clocks; dispatch assigns;
reporting projects). Field meanings follow the domain's case record.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import Field

from .envelope import Event


class Tier(StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class Channel(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    WEB = "web"
    FAX = "fax"
    SMS = "sms"
    IM = "im"
    MONITORING = "monitoring"


class CaseStatus(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    AWAITING_CUSTOMER = "awaiting_customer"
    AWAITING_REPRODUCTION = "awaiting_reproduction"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    CLOSED = "closed"


class CaseEvent(Event):
    case_id: UUID


class CaseOpened(CaseEvent, event_type="case.opened", version=1, producer="intake"):
    """A case was recorded; its clocks start and dispatch looks for an engineer."""

    case_number: str = Field(pattern=r"^\d{4}-\d{6,}$", examples=["2026-000123"])
    organisation_id: UUID
    contract_id: str = Field(min_length=1, max_length=64)
    system_id: str = Field(min_length=1, max_length=64, description="The maintained system or platform.")
    tier: Tier
    channel: Channel
    title: str = Field(min_length=1, max_length=200)
    vendor: str | None = Field(None, max_length=100, description="The maintained equipment's vendor (a skill).")
    region: str | None = Field(None, max_length=64, description="Where the system is: dispatch matches engineers.")


class CaseTierChanged(CaseEvent, event_type="case.tier_changed", version=1, producer="intake"):
    """An agent changed the severity tier; running clocks are recomputed under the new tier."""

    from_tier: Tier
    to_tier: Tier
    reason: str = Field(min_length=1, max_length=2000)
    changed_by: str = Field(min_length=1, max_length=128)


class CaseStatusChanged(CaseEvent, event_type="case.status_changed", version=1, producer="intake"):
    """The case moved in its status machine; clocks pause, resume, stop or reopen accordingly."""

    from_status: CaseStatus
    to_status: CaseStatus
    reason: str | None = Field(default=None, max_length=2000)
    changed_by: str = Field(min_length=1, max_length=128)
    assignee: str | None = Field(default=None, max_length=128, description="Set when the move assigns an engineer.")


class CaseNoteAdded(CaseEvent, event_type="case.note_added", version=1, producer="intake"):
    """Someone allowed (customers included) added a note to the case timeline."""

    note_id: UUID
    author: str = Field(min_length=1, max_length=128)
    internal: bool = Field(description="Internal notes are never shown to customers.")
    body: str = Field(min_length=1, max_length=20000)


class SurveyAnswered(CaseEvent, event_type="survey.answered", version=1, producer="intake"):
    """The customer answered the satisfaction survey of a closed case."""

    score: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)


class ComplaintFiled(CaseEvent, event_type="complaint.filed", version=1, producer="intake"):
    """A complaint was filed: the complaint first-reply and resolution clocks start."""

    complaint_id: UUID
    organisation_id: UUID


class ComplaintFirstReplied(CaseEvent, event_type="complaint.first_replied", version=1, producer="intake"):
    """The service desk first replied to a complaint: the first-reply clock stops."""

    complaint_id: UUID
    replied_by: str = Field(min_length=1, max_length=128)


class ComplaintClosed(CaseEvent, event_type="complaint.closed", version=1, producer="intake"):
    """A complaint was closed: the complaint resolution clock stops."""

    complaint_id: UUID
    closed_by: str = Field(min_length=1, max_length=128)


class ReportDelivered(CaseEvent, event_type="report.delivered", version=1, producer="intake"):
    """A report reached the customer: the fault report or fault analysis report clock stops."""

    report: str = Field(pattern="^(fault_report|fault_analysis_report)$")
    delivered_by: str = Field(min_length=1, max_length=128)


class CaseUpdated(CaseEvent, event_type="case.updated", version=1, producer="intake", feed=True):
    """The case as it stands after a change: every write of a case record emits one, in the same
    transaction. A feed for read models (the gateway's case views), not a fact of the history:
    consumers keep the highest `version` they have seen and ignore older ones."""

    version: int = Field(ge=1, description="The case's version after the change (its ETag).")
    view: dict[str, Any] = Field(description="The case exactly as `GET /cases/{id}` shows it (CaseView).")
