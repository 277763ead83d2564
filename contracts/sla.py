"""Events produced by the SLA engine: clock outcomes and escalations.

Every outcome carries the deadline, the business time elapsed and the policy version used, so a
reader (timeline, reporting, a NOC screen) never needs to recompute anything.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from pydantic import AwareDatetime, Field

from .cases import Tier
from .envelope import Event


class Clock(StrEnum):
    """The promises of the domain's "SLA clocks" table."""

    REMOTE_RESPONSE = "remote_response"
    ON_SITE_ARRIVAL = "on_site_arrival"
    RESTORE = "restore"
    FAULT_REPORT = "fault_report"
    FAULT_ANALYSIS_REPORT = "fault_analysis_report"
    SPARE_ON_SITE = "spare_on_site"
    COMPLAINT_FIRST_REPLY = "complaint_first_reply"
    COMPLAINT_RESOLUTION = "complaint_resolution"


class ClockEvent(Event):
    case_id: UUID
    clock: Clock
    subject: str | None = Field(None, max_length=64,
                                description="What the clock is about when a case has several: a complaint, "
                                            "a visit or a spare request id.")
    tier: Tier
    deadline: AwareDatetime
    elapsed_seconds: float = Field(ge=0, description="Business time the clock had run, paused time excluded.")
    policy: str = Field(min_length=1, max_length=64)
    policy_version: int = Field(ge=1)


class ClockChange(Event):
    """A clock's life: started, paused, resumed. `occurred_at` is when it happened to the clock."""

    case_id: UUID
    clock: Clock
    subject: str | None = Field(None, max_length=64)
    tier: Tier
    deadline: AwareDatetime | None = Field(description="As things now stand; none while paused or without a target.")
    elapsed_seconds: float = Field(ge=0, description="Business time run so far, paused time excluded.")
    policy: str = Field(min_length=1, max_length=64)
    policy_version: int = Field(ge=1)


class ClockStarted(ClockChange, event_type="clock.started", version=1, producer="sla"):
    """A clock started (or started again: a report owed after a second resolution)."""


class ClockPaused(ClockChange, event_type="clock.paused", version=1, producer="sla"):
    """A clock paused: the case waits on the customer or on a reproduction."""


class ClockResumed(ClockChange, event_type="clock.resumed", version=1, producer="sla"):
    """A paused clock runs again; `deadline` is its new deadline."""


class ClockWarned(ClockEvent, event_type="clock.warned", version=1, producer="sla"):
    """A running clock reached a warning fraction of its allowed time (default 75 % and 90 %)."""

    fraction: float = Field(gt=0, lt=1)


class ClockBreached(ClockEvent, event_type="clock.breached", version=1, producer="sla"):
    """The deadline passed with the clock still running (emitted at the deadline)."""


class ClockMet(ClockEvent, event_type="clock.met", version=1, producer="sla"):
    """The clock stopped before its deadline."""

    stopped_at: AwareDatetime


class ClockRecomputed(ClockEvent, event_type="clock.recomputed", version=1, producer="sla"):
    """A tier change recomputed a running clock from its original start under the new tier."""

    from_tier: Tier
    previous_deadline: AwareDatetime | None


class EscalationReason(StrEnum):
    NOT_RESOLVED = "not_resolved"
    NO_STATUS_UPDATE = "no_status_update"


class EscalationRaised(Event, event_type="escalation.raised", version=1, producer="sla"):
    """A rung of the escalation ladder was reached (or the engineer left the case without an update)."""

    case_id: UUID
    level: str = Field(pattern=r"^L[1-9]$", examples=["L2"])
    tier: Tier
    reason: EscalationReason
    recipients: list[str] = Field(max_length=50, description="Who is notified at this level (roles or addresses).")
    elapsed_seconds: float = Field(ge=0)
    policy: str = Field(min_length=1, max_length=64)
    policy_version: int = Field(ge=1)
