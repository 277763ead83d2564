"""Events produced by dispatch: assignments and their chase, contacts, visits and notifications.
`contact.logged`, `visit.required` and `visit.arrived` start and stop SLA clocks."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from pydantic import AwareDatetime, Field

from .envelope import Event


class ContactKind(StrEnum):
    PHONE = "phone"
    REMOTE_SESSION = "remote_session"
    ON_SITE = "on_site"


class ContactLogged(Event, event_type="contact.logged", version=1, producer="dispatch"):
    """An engineer logged a contact with the customer; the first one stops the remote-response clock."""

    case_id: UUID
    activity_id: UUID
    engineer: str = Field(min_length=1, max_length=128)
    kind: ContactKind


class VisitRequired(Event, event_type="visit.required", version=1, producer="dispatch"):
    """An on-site visit is required: the on-site arrival clock starts. Dispatch asks `crew` to join
    the lead engineer, to meet the tier's minimum staffing; `short` is how many are still missing."""

    case_id: UUID
    visit_id: UUID
    staffing_required: int = Field(1, ge=1, le=20, description="Engineers the tier needs on site.")
    lead: str | None = Field(None, min_length=1, max_length=128, description="The engineer who has the case.")
    crew: list[str] = Field(default_factory=list, max_length=20, description="Engineers asked to join.")
    short: int = Field(0, ge=0, le=20, description="Engineers still missing.")


class VisitArrived(Event, event_type="visit.arrived", version=1, producer="dispatch"):
    """The engineer arrived on site: the on-site arrival clock stops."""

    case_id: UUID
    visit_id: UUID
    engineer: str = Field(min_length=1, max_length=128)


class AssignmentKind(StrEnum):
    AUTOMATIC = "automatic"
    MANUAL = "manual"
    REASSIGNED = "reassigned"  # the previous engineer did not acknowledge in time
    TRANSFER = "transfer"  # handed to a named engineer by the previous one
    TAKEOVER = "takeover"  # an engineer took the case over
    EXPERT = "expert"  # escalated to a technical expert


class EngineerAssigned(Event, event_type="engineer.assigned", version=1, producer="dispatch"):
    """An engineer now owns the case; `reasons` explains the choice."""

    case_id: UUID
    engineer: str = Field(min_length=1, max_length=128)
    previous_engineer: str | None = Field(None, max_length=128)
    kind: AssignmentKind
    assigned_by: str = Field(min_length=1, max_length=128)
    reasons: list[str] = Field(max_length=20)
    acknowledge_by: AwareDatetime | None = Field(None, description="When the engineer must have acknowledged.")


class EngineerUnassigned(Event, event_type="engineer.unassigned", version=1, producer="dispatch"):
    """No qualified engineer was available (or the case was handed back to dispatch): the dispatcher acts."""

    case_id: UUID
    reasons: list[str] = Field(max_length=20)


class EngineerAcknowledged(Event, event_type="engineer.acknowledged", version=1, producer="dispatch"):
    case_id: UUID
    engineer: str = Field(min_length=1, max_length=128)


class EngineerReminded(Event, event_type="engineer.reminded", version=1, producer="dispatch"):
    """The engineer had not acknowledged at a chase mark; the engineer and the dispatcher were told."""

    case_id: UUID
    engineer: str = Field(min_length=1, max_length=128)
    minutes: int = Field(ge=0, description="Minutes since the first assignment.")


class NotificationChannel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class NotificationOutcome(StrEnum):
    SENT = "sent"
    FAILED = "failed"  # every attempt failed
    WITHDRAWN = "withdrawn"  # not sent: its reason went away first (e.g. the engineer acknowledged)


class NotificationDelivered(Event, event_type="notification.delivered", version=1, producer="dispatch"):
    """What happened to one notice on one channel (shown on the case timeline)."""

    case_id: UUID
    notification_id: UUID
    channel: NotificationChannel
    recipient: str = Field(min_length=1, max_length=320)
    notice: str = Field(min_length=1, max_length=64, examples=["assigned", "reminder", "escalation"])
    outcome: NotificationOutcome
    attempts: int = Field(ge=0, description="Send attempts made (0 for a notice withdrawn before its first).")
    error: str | None = Field(None, max_length=2000, description="Why it failed, or why it was withdrawn.")


class VisitEnRoute(Event, event_type="visit.en_route", version=1, producer="dispatch"):
    case_id: UUID
    visit_id: UUID
    engineer: str = Field(min_length=1, max_length=128)
    eta: AwareDatetime | None = None


class VisitFinished(Event, event_type="visit.finished", version=1, producer="dispatch"):
    """The customer signed the on-site service form and the engineer left the site."""

    case_id: UUID
    visit_id: UUID
    signed_by: str = Field(min_length=1, max_length=200)
    leftover_issues: str | None = Field(None, max_length=4000)
