"""Other services' events as entries of a case's timeline (the timeline tells everything that
happened to the case, not only intake's own changes). Pure: which entry an event makes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from contracts import Event
from contracts.dispatch import ContactLogged, VisitArrived, VisitRequired
from contracts.sla import (
    ClockBreached,
    ClockMet,
    ClockRecomputed,
    ClockWarned,
    EscalationRaised,
)
from contracts.spares import SpareDelivered, SpareRequested

# A clock's start, pauses and resumptions are not timeline entries: the case's status moves already
# say when it waits, and GET /cases/{id}/clocks shows every clock live. Outcomes and escalations are.
FOREIGN_EVENTS = ("clock.warned", "clock.breached", "clock.met", "clock.recomputed", "escalation.raised",
                  "contact.logged", "visit.required", "visit.arrived", "spare.requested", "spare.delivered")


@dataclass(frozen=True)
class Entry:
    kind: str
    actor: str
    summary: str
    at: datetime
    internal: bool = False
    data: dict = field(default_factory=dict)


def _clock(name: str) -> str:
    return name.replace("_", " ")


def _hhmm(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def entry_for(event: Event) -> Entry | None:
    at = event.occurred_at
    match event:
        case ClockWarned():  # an operational signal for the desk, not for the customer
            return Entry("clock_warned", "sla", f"{_clock(event.clock)} clock at {event.fraction:.0%} of its time; "
                         f"due {event.deadline.isoformat()}", at, internal=True,
                         data={"clock": event.clock, "fraction": event.fraction,
                               "deadline": event.deadline.isoformat()})
        case ClockBreached():
            return Entry("clock_breached", "sla", f"{_clock(event.clock)} deadline {event.deadline.isoformat()} "
                         f"passed ({event.tier}, policy {event.policy} v{event.policy_version})", at,
                         data={"clock": event.clock, "deadline": event.deadline.isoformat()})
        case ClockMet():
            return Entry("clock_met", "sla", f"{_clock(event.clock)} met after {_hhmm(event.elapsed_seconds)} "
                         f"(due {event.deadline.isoformat()})", at,
                         data={"clock": event.clock, "elapsed_seconds": event.elapsed_seconds})
        case ClockRecomputed():
            return Entry("clock_recomputed", "sla", f"{_clock(event.clock)} recomputed for {event.tier}: now due "
                         f"{event.deadline.isoformat()}", at,
                         data={"clock": event.clock, "from_tier": event.from_tier, "tier": event.tier})
        case EscalationRaised():
            return Entry("escalation", "sla", f"escalated to {event.level} ({event.reason.value.replace('_', ' ')}); "
                         f"notified {', '.join(event.recipients)}", at, internal=True,
                         data={"level": event.level, "reason": event.reason.value, "recipients": event.recipients})
        case ContactLogged():
            return Entry("contact", event.engineer, f"{event.kind.value.replace('_', ' ')} contact with the customer",
                         at, data={"activity_id": str(event.activity_id)})
        case VisitRequired():
            return Entry("visit", "dispatch", "on-site visit required", at, data={"visit_id": str(event.visit_id)})
        case VisitArrived():
            return Entry("visit", event.engineer, "engineer arrived on site", at,
                         data={"visit_id": str(event.visit_id)})
        case SpareRequested():
            return Entry("spare", "spares", "spare part requested", at, data={"request_id": str(event.request_id)})
        case SpareDelivered():
            return Entry("spare", "spares", "spare part delivered on site", at,
                         data={"request_id": str(event.request_id)})
    return None
